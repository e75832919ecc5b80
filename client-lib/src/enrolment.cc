#include "palm/enrolment.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "sync/uuid.h"

namespace palm {
namespace {

struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct ReqFree {
  void operator()(X509_REQ* p) const { X509_REQ_free(p); }
};

Status Fail(StatusCode code, const std::string& reason, const std::string& message) {
  return Status(code, reason, message);
}

Status OpenSslFailure(const char* what) {
  char buf[256] = "no OpenSSL error recorded";
  if (unsigned long e = ERR_get_error()) ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return Fail(StatusCode::kInternal, "internal", absl::StrCat(what, ": ", buf));
}

bool ValidDeviceId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// The PEM text of what `write` puts into a memory BIO.
template <typename Write>
Result<std::string> ToPem(Write write, const char* what) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || write(bio.get()) != 1) return OpenSslFailure(what);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<size_t>(size));
  if (size > 0) OPENSSL_cleanse(data, static_cast<size_t>(size));
  return pem;
}

// Writes `contents` to a new file `path` with mode 0600 and syncs it.
Status WriteKeyFile(const std::string& path, const std::string& contents) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return Fail(StatusCode::kAlreadyExists, "key_exists",
                  absl::StrCat(path, " already exists; refusing to overwrite a device key"));
    }
    return Fail(StatusCode::kUnavailable, "io_error",
                absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  const bool ok = done == contents.size() && ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    return Fail(StatusCode::kUnavailable, "io_error",
                absl::StrCat("cannot write ", path, ": ", std::strerror(saved)));
  }
  return Status();
}

}  // namespace

Result<EnrolmentRequest> CreateEnrolmentRequest(const std::string& key_path,
                                                const std::string& device_id) {
  if (key_path.empty()) {
    return Fail(StatusCode::kInvalidArgument, "invalid_argument", "key_path is empty");
  }
  EnrolmentRequest out;
  out.device_id = device_id.empty() ? sync::NewUuidV7() : device_id;
  if (!ValidDeviceId(out.device_id)) {
    return Fail(StatusCode::kInvalidArgument, "invalid_argument",
                "a device id is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'");
  }
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpenSslFailure("cannot generate a P-256 key");

  std::unique_ptr<X509_REQ, ReqFree> request(X509_REQ_new());
  if (request == nullptr || X509_REQ_set_version(request.get(), 0) != 1 ||
      X509_REQ_set_pubkey(request.get(), key.get()) != 1) {
    return OpenSslFailure("cannot build the certificate request");
  }
  X509_NAME* name = X509_REQ_get_subject_name(request.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(out.device_id.c_str()), -1,
                                 -1, 0) != 1 ||
      X509_REQ_sign(request.get(), key.get(), EVP_sha256()) <= 0) {
    return OpenSslFailure("cannot sign the certificate request");
  }
  auto key_pem = ToPem(
      [&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
      },
      "cannot encode the device key");
  if (!key_pem.ok()) return key_pem.status();
  auto csr_pem = ToPem([&](BIO* bio) { return PEM_write_bio_X509_REQ(bio, request.get()); },
                       "cannot encode the certificate request");
  if (!csr_pem.ok()) return csr_pem.status();
  std::string secret = std::move(*key_pem);
  Status written = WriteKeyFile(key_path, secret);
  OPENSSL_cleanse(secret.data(), secret.size());
  if (!written.ok()) return written;
  out.csr_pem = std::move(*csr_pem);
  return out;
}

}  // namespace palm
