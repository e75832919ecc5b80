#include "server/pki/pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace palm::pki {
namespace {

template <auto kFree>
struct Free {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
using BioPtr = std::unique_ptr<BIO, Free<BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Free<BN_free>>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Free<GENERAL_NAMES_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Free<X509_STORE_CTX_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Free<X509_STORE_free>>;
using X509Ptr = std::unique_ptr<X509, Free<X509_free>>;
using X509ReqPtr = std::unique_ptr<X509_REQ, Free<X509_REQ_free>>;

// Drains OpenSSL's thread-local error queue into one line.
std::string TakeOpenSslErrors() {
  std::vector<std::string> errors;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    errors.emplace_back(buf);
  }
  return errors.empty() ? "no OpenSSL error recorded" : absl::StrJoin(errors, "; ");
}

absl::Status OpenSslFailure(absl::string_view what) {
  return absl::InternalError(absl::StrCat(what, ": ", TakeOpenSslErrors()));
}

bool IsIdentifierChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

// Ids end up in certificate subjects (at most 64 characters) and SAN URIs, so
// they are kept to characters that need no escaping anywhere.
absl::Status CheckIdentifier(absl::string_view what, absl::string_view value) {
  if (value.empty() || value.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be 1 to 64 characters long, got ", value.size()));
  }
  for (char c : value) {
    if (!IsIdentifierChar(c)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " '", value, "' may contain only letters, digits, '.', '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

size_t Utf8Length(absl::string_view text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::string ToHex(const unsigned char* data, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    hex.push_back(kDigits[data[i] >> 4]);
    hex.push_back(kDigits[data[i] & 0xF]);
  }
  return hex;
}

absl::StatusOr<X509Ptr> ParseCertificate(absl::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return OpenSslFailure("cannot allocate a BIO");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a PEM certificate");
  }
  return cert;
}

absl::StatusOr<PkeyPtr> ParsePrivateKey(absl::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return OpenSslFailure("cannot allocate a BIO");
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not an unencrypted PEM private key");
  }
  return key;
}

absl::StatusOr<X509ReqPtr> ParseRequest(absl::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return OpenSslFailure("cannot allocate a BIO");
  X509ReqPtr request(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (request == nullptr) {
    ERR_clear_error();
    return absl::InvalidArgumentError("not a PEM certificate request (PKCS #10)");
  }
  return request;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  return std::string(data, size > 0 ? static_cast<size_t>(size) : 0);
}

absl::StatusOr<std::string> CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslFailure("cannot encode the certificate");
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> PrivateKeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslFailure("cannot encode the private key");
  }
  std::string pem = BioContents(bio.get());
  // The BIO's buffer held the secret; BIO_free does not wipe it.
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  if (size > 0) OPENSSL_cleanse(data, static_cast<size_t>(size));
  return pem;
}

absl::StatusOr<PkeyPtr> GenerateKey() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (key == nullptr) return OpenSslFailure("cannot generate a P-256 key");
  return key;
}

struct Interval {
  TimePoint not_before;
  TimePoint not_after;
};

absl::StatusOr<Interval> ResolveValidity(const Validity& validity) {
  using std::chrono::hours;
  const TimePoint now = std::chrono::system_clock::now();
  if (!validity.not_after.has_value() &&
      (validity.valid_days <= 0 || validity.valid_days > 36500)) {
    return absl::InvalidArgumentError(
        absl::StrCat("validity must be 1 to 36500 days, got ", validity.valid_days));
  }
  Interval interval;
  interval.not_before = validity.not_before.value_or(now - hours(1));
  interval.not_after = validity.not_after.value_or(now + hours(24) * validity.valid_days);
  if (interval.not_after <= interval.not_before) {
    return absl::InvalidArgumentError("a certificate's not_after must be after its not_before");
  }
  return interval;
}

// The distinguished name of a certificate's subject; empty fields are left
// out.
struct Subject {
  std::string organization = {};
  std::string organizational_unit = {};
  std::string common_name = {};
};

absl::Status FillName(X509_NAME* name, const Subject& subject) {
  const std::pair<const char*, const std::string*> fields[] = {{"O", &subject.organization},
                                                               {"OU", &subject.organizational_unit},
                                                               {"CN", &subject.common_name}};
  for (const auto& [field, value] : fields) {
    if (value->empty()) continue;
    if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value->data()),
                                   static_cast<int>(value->size()), -1, 0) != 1) {
      return absl::InvalidArgumentError(absl::StrCat("cannot put '", *value, "' into the subject ",
                                                     field, ": ", TakeOpenSslErrors()));
    }
  }
  return absl::OkStatus();
}

absl::Status AddGeneralName(GENERAL_NAMES* names, int type, absl::string_view value) {
  GENERAL_NAME* name = GENERAL_NAME_new();
  if (name == nullptr) return OpenSslFailure("cannot allocate a name");
  ASN1_STRING* text = nullptr;
  if (type == GEN_IPADD) {
    text = a2i_IPADDRESS(std::string(value).c_str());
    if (text == nullptr) {
      ERR_clear_error();
      GENERAL_NAME_free(name);
      return absl::InvalidArgumentError(absl::StrCat("'", value, "' is not an IP address"));
    }
  } else {
    text = ASN1_IA5STRING_new();
    if (text == nullptr ||
        ASN1_STRING_set(text, value.data(), static_cast<int>(value.size())) != 1) {
      ASN1_STRING_free(text);
      GENERAL_NAME_free(name);
      return OpenSslFailure("cannot allocate a name");
    }
  }
  GENERAL_NAME_set0_value(name, type, text);
  if (sk_GENERAL_NAME_push(names, name) <= 0) {
    GENERAL_NAME_free(name);
    return OpenSslFailure("cannot add a name");
  }
  return absl::OkStatus();
}

// What a new certificate needs besides its subject and key.
struct CertificateSpec {
  const Subject* subject;
  EVP_PKEY* subject_key;
  X509* issuer;  // null for a self-signed certificate
  EVP_PKEY* issuer_key;
  Interval validity;
  // (NID, OpenSSL extension config value), added in order. The subject key
  // identifier must come before the authority key identifier, so that a
  // self-signed certificate's AKI can refer to its own SKI.
  std::vector<std::pair<int, const char*>> extensions;
  GENERAL_NAMES* alt_names;  // may be null
};

absl::StatusOr<X509Ptr> BuildCertificate(const CertificateSpec& spec) {
  X509Ptr cert(X509_new());
  if (cert == nullptr) return OpenSslFailure("cannot allocate a certificate");
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1) return OpenSslFailure("X509_set_version");

  // RFC 5280 §4.1.2.2: positive, at most 20 octets; 159 random bits are both.
  BnPtr serial(BN_new());
  if (serial == nullptr || BN_rand(serial.get(), 159, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1) {
    return OpenSslFailure("cannot make a serial number");
  }
  if (BN_is_zero(serial.get())) BN_one(serial.get());
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return OpenSslFailure("cannot set the serial number");
  }

  const time_t not_before = std::chrono::system_clock::to_time_t(spec.validity.not_before);
  const time_t not_after = std::chrono::system_clock::to_time_t(spec.validity.not_after);
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), not_after) == nullptr) {
    return OpenSslFailure("cannot set the validity");
  }

  if (absl::Status s = FillName(X509_get_subject_name(cert.get()), *spec.subject); !s.ok()) {
    return s;
  }
  X509_NAME* issuer_name = spec.issuer != nullptr ? X509_get_subject_name(spec.issuer)
                                                  : X509_get_subject_name(cert.get());
  if (X509_set_issuer_name(cert.get(), issuer_name) != 1 ||
      X509_set_pubkey(cert.get(), spec.subject_key) != 1) {
    return OpenSslFailure("cannot set the issuer or the public key");
  }

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, spec.issuer != nullptr ? spec.issuer : cert.get(), cert.get(), nullptr,
                 nullptr, 0);
  for (const auto& [nid, value] : spec.extensions) {
    ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
    if (extension == nullptr || X509_add_ext(cert.get(), extension.get(), -1) != 1) {
      return OpenSslFailure(absl::StrCat("cannot add extension ", OBJ_nid2sn(nid), "=", value));
    }
  }
  if (spec.alt_names != nullptr && X509_add1_ext_i2d(cert.get(), NID_subject_alt_name,
                                                     spec.alt_names, 0, X509V3_ADD_DEFAULT) != 1) {
    return OpenSslFailure("cannot add the subjectAltName");
  }

  if (X509_sign(cert.get(), spec.issuer_key, EVP_sha256()) <= 0) {
    return OpenSslFailure("cannot sign the certificate");
  }
  return cert;
}

// Issues a leaf certificate signed by `ca` for `subject_key`, or for a fresh
// key when it is null (the credentials then carry that key; otherwise no key).
absl::StatusOr<Credentials> IssueLeaf(const CertificateAuthority& ca, const Subject& subject,
                                      const Validity& validity, const char* extended_key_usage,
                                      GENERAL_NAMES* alt_names, EVP_PKEY* subject_key = nullptr) {
  auto interval = ResolveValidity(validity);
  if (!interval.ok()) return interval.status();
  auto ca_cert = ParseCertificate(ca.credentials.certificate_pem);
  if (!ca_cert.ok()) return absl::InvalidArgumentError("the CA certificate does not parse");
  auto ca_key = ParsePrivateKey(ca.credentials.key_pem);
  if (!ca_key.ok()) return absl::InvalidArgumentError("the CA key does not parse");
  PkeyPtr fresh;
  if (subject_key == nullptr) {
    auto key = GenerateKey();
    if (!key.ok()) return key.status();
    fresh = std::move(*key);
  }

  CertificateSpec spec{
      .subject = &subject,
      .subject_key = subject_key != nullptr ? subject_key : fresh.get(),
      .issuer = ca_cert->get(),
      .issuer_key = ca_key->get(),
      .validity = *interval,
      .extensions = {{NID_basic_constraints, "critical,CA:FALSE"},
                     {NID_key_usage, "critical,digitalSignature"},
                     {NID_ext_key_usage, extended_key_usage},
                     {NID_subject_key_identifier, "hash"},
                     {NID_authority_key_identifier, "keyid:always"}},
      .alt_names = alt_names,
  };
  auto cert = BuildCertificate(spec);
  if (!cert.ok()) return cert.status();
  Credentials credentials;
  if (fresh != nullptr) {
    auto key_pem = PrivateKeyToPem(fresh.get());
    if (!key_pem.ok()) return key_pem.status();
    credentials.key_pem = std::move(*key_pem);
  }
  auto cert_pem = CertificateToPem(cert->get());
  if (!cert_pem.ok()) return cert_pem.status();
  credentials.certificate_pem = std::move(*cert_pem);
  return credentials;
}

absl::StatusOr<std::string> NameEntry(X509_NAME* name, int nid) {
  int index = X509_NAME_get_index_by_NID(name, nid, -1);
  if (index < 0) return std::string();
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int size = ASN1_STRING_to_UTF8(&utf8, data);
  if (size < 0) return absl::InvalidArgumentError("a subject field is not valid text");
  std::string text(reinterpret_cast<char*>(utf8), static_cast<size_t>(size));
  OPENSSL_free(utf8);
  return text;
}

absl::StatusOr<TimePoint> ToTimePoint(const ASN1_TIME* time) {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(time, &tm) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("a validity date does not parse");
  }
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// Returns the one identifier after `prefix` among the certificate's SAN URIs.
absl::StatusOr<std::string> IdentityFromCertificatePem(absl::string_view pem,
                                                       absl::string_view prefix,
                                                       absl::string_view what) {
  auto info = InspectCertificatePem(pem);
  if (!info.ok()) return info.status();
  std::vector<std::string> found;
  for (const std::string& uri : info->uris) {
    if (absl::StartsWith(uri, prefix)) found.push_back(uri.substr(prefix.size()));
  }
  if (found.empty()) {
    return absl::NotFoundError(
        absl::StrCat("the certificate names no ", what, " (no SAN URI ", prefix, "...)"));
  }
  if (found.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("the certificate names ", found.size(), " ",
                                                   what, "s: ", absl::StrJoin(found, ", ")));
  }
  if (absl::Status s = CheckIdentifier(what, found[0]); !s.ok()) return s;
  return found[0];
}

absl::Status ErrnoStatus(int error, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::InternalError(message);
  }
}

// Makes `dir` (0700) and any missing parents; an existing directory is kept
// as it is.
absl::Status EnsureDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return absl::OkStatus();
  if (fs::exists(dir, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(dir, " exists and is not a directory"));
  }
  fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty() && !fs::create_directories(parent, ec) && ec) {
    return absl::InternalError(absl::StrCat("cannot create ", parent.string(), ": ", ec.message()));
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, absl::StrCat("cannot create ", dir));
  }
  return absl::OkStatus();
}

struct FileSpec {
  const char* name;
  absl::string_view contents;
  int mode;
};

// Writes all of `files` into `dir` or none of them.
absl::Status WriteFileSet(const std::string& dir, const std::vector<FileSpec>& files) {
  if (absl::Status s = EnsureDirectory(dir); !s.ok()) return s;
  std::vector<std::string> present;
  for (const FileSpec& file : files) {
    std::string path = (std::filesystem::path(dir) / file.name).string();
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) present.push_back(path);
  }
  if (!present.empty()) {
    return absl::AlreadyExistsError(absl::StrCat(absl::StrJoin(present, ", "), " already exist",
                                                 present.size() == 1 ? "s" : "",
                                                 "; refusing to overwrite"));
  }
  std::vector<std::string> written;
  for (const FileSpec& file : files) {
    std::string path = (std::filesystem::path(dir) / file.name).string();
    if (absl::Status s = WriteNewFile(path, file.contents, file.mode); !s.ok()) {
      for (const std::string& done : written) ::unlink(done.c_str());
      return s;
    }
    written.push_back(path);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CertificateAuthority> CreateCertificateAuthority(const CaOptions& options) {
  if (options.bureau.empty() || Utf8Length(options.bureau) > 64) {
    return absl::InvalidArgumentError("the bureau name must be 1 to 64 characters long");
  }
  auto interval = ResolveValidity(options.validity);
  if (!interval.ok()) return interval.status();
  auto key = GenerateKey();
  if (!key.ok()) return key.status();
  Subject subject{.organization = options.bureau, .common_name = "Palm bureau CA"};
  CertificateSpec spec{
      .subject = &subject,
      .subject_key = key->get(),
      .issuer = nullptr,
      .issuer_key = key->get(),
      .validity = *interval,
      .extensions = {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                     {NID_key_usage, "critical,keyCertSign,cRLSign"},
                     {NID_subject_key_identifier, "hash"},
                     {NID_authority_key_identifier, "keyid:always"}},
      .alt_names = nullptr,
  };
  auto cert = BuildCertificate(spec);
  if (!cert.ok()) return cert.status();
  auto key_pem = PrivateKeyToPem(key->get());
  if (!key_pem.ok()) return key_pem.status();
  auto cert_pem = CertificateToPem(cert->get());
  if (!cert_pem.ok()) return cert_pem.status();
  CertificateAuthority ca;
  ca.credentials.key_pem = std::move(*key_pem);
  ca.credentials.certificate_pem = std::move(*cert_pem);
  ca.bureau = options.bureau;
  return ca;
}

absl::StatusOr<Credentials> IssueServerCertificate(const CertificateAuthority& ca,
                                                   const ServerCertificateOptions& options) {
  NamesPtr names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) return OpenSslFailure("cannot allocate names");
  std::vector<std::string> dns = {"localhost"};
  std::vector<std::string> ips = {"127.0.0.1"};
  for (const std::string& host : options.hosts) {
    ASN1_OCTET_STRING* ip = a2i_IPADDRESS(host.c_str());
    ERR_clear_error();
    std::vector<std::string>* list = ip != nullptr ? &ips : &dns;
    ASN1_OCTET_STRING_free(ip);
    if (list == &dns) {
      bool ok = !host.empty() && host.size() <= 253 && host.front() != '-' && host.back() != '.';
      for (char c : host) ok = ok && (IsIdentifierChar(c) && c != '_');
      if (!ok) {
        return absl::InvalidArgumentError(
            absl::StrCat("host '", host, "' is neither an IP address nor a DNS name"));
      }
    }
    if (std::find(list->begin(), list->end(), host) == list->end()) list->push_back(host);
  }
  for (const std::string& name : dns) {
    if (absl::Status s = AddGeneralName(names.get(), GEN_DNS, name); !s.ok()) return s;
  }
  for (const std::string& ip : ips) {
    if (absl::Status s = AddGeneralName(names.get(), GEN_IPADD, ip); !s.ok()) return s;
  }
  std::string common_name = options.hosts.empty() ? "localhost" : options.hosts.front();
  if (common_name.size() > 64) common_name = "palm-server";
  Subject subject{.organization = ca.bureau, .common_name = common_name};
  return IssueLeaf(ca, subject, options.validity, "serverAuth", names.get());
}

namespace {

// A handheld's leaf certificate (CN = device id, OU = town, SAN URI
// palm:device:<id>, clientAuth) for `key`, or for a fresh key when null.
absl::StatusOr<Credentials> IssueDeviceLeaf(const CertificateAuthority& ca,
                                            const DeviceCertificateOptions& options,
                                            EVP_PKEY* key) {
  if (absl::Status s = CheckIdentifier("device id", options.device_id); !s.ok()) return s;
  if (absl::Status s = CheckIdentifier("town id", options.town_id); !s.ok()) return s;
  NamesPtr names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) return OpenSslFailure("cannot allocate names");
  if (absl::Status s =
          AddGeneralName(names.get(), GEN_URI, absl::StrCat(kDeviceUriPrefix, options.device_id));
      !s.ok()) {
    return s;
  }
  Subject subject{.organization = ca.bureau,
                  .organizational_unit = options.town_id,
                  .common_name = options.device_id};
  return IssueLeaf(ca, subject, options.validity, "clientAuth", names.get(), key);
}

}  // namespace

absl::StatusOr<Credentials> IssueDeviceCertificate(const CertificateAuthority& ca,
                                                   const DeviceCertificateOptions& options) {
  return IssueDeviceLeaf(ca, options, nullptr);
}

absl::StatusOr<std::string> DeviceIdFromRequestPem(absl::string_view request_pem) {
  auto request = ParseRequest(request_pem);
  if (!request.ok()) return request.status();
  auto id = NameEntry(X509_REQ_get_subject_name(request->get()), NID_commonName);
  if (!id.ok()) return id.status();
  if (id->empty()) {
    return absl::InvalidArgumentError("the certificate request names no device id (subject CN)");
  }
  if (absl::Status s = CheckIdentifier("device id", *id); !s.ok()) return s;
  return *id;
}

absl::StatusOr<std::string> IssueDeviceCertificateForRequest(
    const CertificateAuthority& ca, const DeviceCertificateOptions& options,
    absl::string_view request_pem) {
  if (absl::Status s = CheckIdentifier("device id", options.device_id); !s.ok()) return s;
  if (absl::Status s = CheckIdentifier("town id", options.town_id); !s.ok()) return s;
  auto request = ParseRequest(request_pem);
  if (!request.ok()) return request.status();
  auto named = DeviceIdFromRequestPem(request_pem);
  if (!named.ok()) return named.status();
  if (*named != options.device_id) {
    return absl::InvalidArgumentError(absl::StrCat("the certificate request is for device ", *named,
                                                   ", not ", options.device_id));
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(request->get());
  if (key == nullptr || !EVP_PKEY_is_a(key, "EC") || EVP_PKEY_get_bits(key) != 256) {
    return absl::InvalidArgumentError("the certificate request's key is not a P-256 key");
  }
  // Proof of possession: the request is signed by the key it carries.
  if (X509_REQ_verify(request->get(), key) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "the certificate request's signature does not verify with its own key");
  }
  auto issued = IssueDeviceLeaf(ca, options, key);
  if (!issued.ok()) return issued.status();
  return std::move(issued->certificate_pem);
}

absl::StatusOr<Credentials> IssueOperatorCertificate(const CertificateAuthority& ca,
                                                     const OperatorCertificateOptions& options) {
  if (absl::Status s = CheckIdentifier("operator name", options.name); !s.ok()) return s;
  NamesPtr names(sk_GENERAL_NAME_new_null());
  if (names == nullptr) return OpenSslFailure("cannot allocate names");
  if (absl::Status s =
          AddGeneralName(names.get(), GEN_URI, absl::StrCat(kOperatorUriPrefix, options.name));
      !s.ok()) {
    return s;
  }
  Subject subject{
      .organization = ca.bureau, .organizational_unit = "operators", .common_name = options.name};
  return IssueLeaf(ca, subject, options.validity, "clientAuth", names.get());
}

absl::StatusOr<CertificateInfo> InspectCertificatePem(absl::string_view pem) {
  auto cert = ParseCertificate(pem);
  if (!cert.ok()) return cert.status();
  CertificateInfo info;
  X509_NAME* subject = X509_get_subject_name(cert->get());
  for (auto [nid, field] : {std::pair{NID_commonName, &info.common_name},
                            std::pair{NID_organizationName, &info.organization},
                            std::pair{NID_organizationalUnitName, &info.organizational_unit}}) {
    auto value = NameEntry(subject, nid);
    if (!value.ok()) return value.status();
    *field = std::move(*value);
  }

  NamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert->get(), NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    int type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(GENERAL_NAME_get0_value(name, &type));
    const auto* data = reinterpret_cast<const char*>(ASN1_STRING_get0_data(value));
    const size_t size = static_cast<size_t>(ASN1_STRING_length(value));
    if (type == GEN_DNS) {
      info.dns_names.emplace_back(data, size);
    } else if (type == GEN_URI) {
      info.uris.emplace_back(data, size);
    } else if (type == GEN_IPADD && (size == 4 || size == 16)) {
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(size == 4 ? AF_INET : AF_INET6, data, text, sizeof text);
      info.ip_addresses.emplace_back(text);
    }
  }

  auto not_before = ToTimePoint(X509_get0_notBefore(cert->get()));
  if (!not_before.ok()) return not_before.status();
  auto not_after = ToTimePoint(X509_get0_notAfter(cert->get()));
  if (!not_after.ok()) return not_after.status();
  info.not_before = *not_before;
  info.not_after = *not_after;
  info.is_ca = (X509_get_extension_flags(cert->get()) & EXFLAG_CA) != 0;

  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (X509_digest(cert->get(), EVP_sha256(), digest, &digest_size) != 1) {
    return OpenSslFailure("cannot hash the certificate");
  }
  info.sha256 = ToHex(digest, digest_size);
  return info;
}

absl::StatusOr<std::string> DeviceIdFromCertificatePem(absl::string_view pem) {
  return IdentityFromCertificatePem(pem, kDeviceUriPrefix, "device id");
}

absl::StatusOr<std::string> OperatorNameFromCertificatePem(absl::string_view pem) {
  return IdentityFromCertificatePem(pem, kOperatorUriPrefix, "operator name");
}

absl::StatusOr<std::string> CertificateSha256(absl::string_view pem) {
  auto cert = ParseCertificate(pem);
  if (!cert.ok()) return cert.status();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  if (X509_digest(cert->get(), EVP_sha256(), digest, &digest_size) != 1) {
    return OpenSslFailure("cannot hash the certificate");
  }
  return ToHex(digest, digest_size);
}

absl::Status VerifyCertificate(absl::string_view certificate_pem,
                               absl::string_view ca_certificate_pem, std::optional<TimePoint> at) {
  auto cert = ParseCertificate(certificate_pem);
  if (!cert.ok()) return cert.status();
  auto ca = ParseCertificate(ca_certificate_pem);
  if (!ca.ok()) return absl::InvalidArgumentError("the CA certificate is not a PEM certificate");
  StorePtr store(X509_STORE_new());
  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (store == nullptr || ctx == nullptr || X509_STORE_add_cert(store.get(), ca->get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert->get(), nullptr) != 1) {
    return OpenSslFailure("cannot set up certificate verification");
  }
  if (at.has_value()) {
    X509_STORE_CTX_set_time(ctx.get(), 0, std::chrono::system_clock::to_time_t(*at));
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    ERR_clear_error();
    return absl::UnauthenticatedError(
        absl::StrCat("the certificate does not verify against the CA: ",
                     X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))));
  }
  return absl::OkStatus();
}

absl::Status WriteCertificateAuthority(const CertificateAuthority& ca, const std::string& dir) {
  return WriteFileSet(dir, {{kCaKeyFile, ca.credentials.key_pem, 0600},
                            {kCaCertFile, ca.credentials.certificate_pem, 0644}});
}

absl::StatusOr<CertificateAuthority> LoadCertificateAuthority(const std::string& dir) {
  auto key_pem = ReadFile((std::filesystem::path(dir) / kCaKeyFile).string());
  if (!key_pem.ok()) return key_pem.status();
  auto cert_pem = ReadFile((std::filesystem::path(dir) / kCaCertFile).string());
  if (!cert_pem.ok()) return cert_pem.status();
  auto key = ParsePrivateKey(*key_pem);
  if (!key.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(dir, "/", kCaKeyFile, ": ", key.status().message()));
  auto cert = ParseCertificate(*cert_pem);
  if (!cert.ok())
    return absl::InvalidArgumentError(
        absl::StrCat(dir, "/", kCaCertFile, ": ", cert.status().message()));
  if (X509_check_private_key(cert->get(), key->get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(dir, "/", kCaKeyFile, " is not the key of ", dir, "/", kCaCertFile));
  }
  if ((X509_get_extension_flags(cert->get()) & EXFLAG_CA) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(dir, "/", kCaCertFile, " is not a CA"));
  }
  auto bureau = NameEntry(X509_get_subject_name(cert->get()), NID_organizationName);
  if (!bureau.ok()) return bureau.status();
  CertificateAuthority ca;
  ca.credentials.key_pem = std::move(*key_pem);
  ca.credentials.certificate_pem = std::move(*cert_pem);
  ca.bureau = std::move(*bureau);
  return ca;
}

absl::Status WriteServerDirectory(const std::string& dir, const Credentials& server,
                                  absl::string_view ca_certificate_pem) {
  return WriteFileSet(dir, {{kServerKeyFile, server.key_pem, 0600},
                            {kServerCertFile, server.certificate_pem, 0644},
                            {kCaCertFile, ca_certificate_pem, 0644}});
}

absl::Status WriteDeviceDirectory(const std::string& dir, absl::string_view device_id,
                                  const Credentials& device, absl::string_view ca_certificate_pem) {
  const std::string id_line = absl::StrCat(device_id, "\n");
  std::vector<FileSpec> files = {{kDeviceCertFile, device.certificate_pem, 0644},
                                 {kCaCertFile, ca_certificate_pem, 0644},
                                 {kDeviceIdFile, id_line, 0644}};
  // A device that made its own key (a certificate request) keeps it.
  if (!device.key_pem.empty()) files.insert(files.begin(), {kDeviceKeyFile, device.key_pem, 0600});
  return WriteFileSet(dir, files);
}

absl::Status WriteOperatorDirectory(const std::string& dir, const Credentials& client,
                                    absl::string_view ca_certificate_pem) {
  return WriteFileSet(dir, {{kClientKeyFile, client.key_pem, 0600},
                            {kClientCertFile, client.certificate_pem, 0644},
                            {kCaCertFile, ca_certificate_pem, 0644}});
}

absl::Status WriteNewFile(const std::string& path, absl::string_view contents, int mode) {
  // The mode given to open() is narrowed by the umask but never widened, so
  // the file is no more readable than `mode` from its creation; fchmod then
  // makes it exactly `mode` before any byte lands in it.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  static_cast<mode_t>(mode));
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot create ", path));
  auto fail = [&](absl::string_view what) {
    absl::Status status = ErrnoStatus(errno, absl::StrCat(what, " ", path));
    ::close(fd);
    ::unlink(path.c_str());
    return status;
  };
  if (::fchmod(fd, static_cast<mode_t>(mode)) != 0) return fail("cannot set the mode of");
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot write");
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot sync");
  if (::close(fd) != 0) {
    absl::Status status = ErrnoStatus(errno, absl::StrCat("cannot close ", path));
    ::unlink(path.c_str());
    return status;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot read ", path));
  std::string contents;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = ErrnoStatus(errno, absl::StrCat("cannot read ", path));
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    contents.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return contents;
}

}  // namespace palm::pki
