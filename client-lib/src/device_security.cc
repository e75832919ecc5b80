#include "palm/device_security.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "palm/client.h"
#include "sync/scrypt.h"

namespace palm {

struct DeviceSecurity::State {
  struct Verifier {
    std::string salt;  // raw
    std::string hash;  // raw
    int failures = 0;
  };
  bool revoked = false;
  std::string revoke_message;
  std::map<std::string, Verifier> verifiers;
};

namespace {

Status IoError(const std::string& what, const std::string& path) {
  return Status(StatusCode::kInternal, "", what + " " + path + ": " + std::strerror(errno));
}

Status Corrupt(const std::string& path) {
  return Status(StatusCode::kDataLoss, "", path + " is not a device security file");
}

}  // namespace

std::string DeviceSecurity::PathFor(const std::string& db_path) { return db_path + "-security"; }

DeviceSecurity::DeviceSecurity(std::string path, std::unique_ptr<State> state)
    : path_(std::move(path)), state_(std::move(state)) {}

DeviceSecurity::~DeviceSecurity() = default;

Status DeviceSecurity::Load(const std::string& path, State* out) {
  std::ifstream in(path);
  if (!in) {  // nothing written yet
    *out = State();
    return Status();
  }
  auto read = std::make_unique<State>();
  State* state = read.get();
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json json = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return Corrupt(path);
  try {
    state->revoked = json.value("revoked", false);
    state->revoke_message = json.value("revoke_message", "");
    const nlohmann::json verifiers = json.value("verifiers", nlohmann::json::object());
    if (!verifiers.is_object()) return Corrupt(path);
    for (const auto& [officer, v] : verifiers.items()) {
      State::Verifier verifier;
      if (!absl::Base64Unescape(v.at("salt").get<std::string>(), &verifier.salt) ||
          !absl::Base64Unescape(v.at("hash").get<std::string>(), &verifier.hash)) {
        return Corrupt(path);
      }
      verifier.failures = v.at("failures").get<int>();
      state->verifiers[officer] = std::move(verifier);
    }
  } catch (const nlohmann::json::exception&) {
    return Corrupt(path);
  }
  *out = std::move(*read);
  return Status();
}

Result<std::unique_ptr<DeviceSecurity>> DeviceSecurity::Open(const std::string& db_path) {
  if (db_path.empty())
    return Status(StatusCode::kInvalidArgument, "invalid_argument", "db_path is empty");
  const std::string path = PathFor(db_path);
  auto state = std::make_unique<State>();
  if (Status s = Load(path, state.get()); !s.ok()) return s;
  return std::unique_ptr<DeviceSecurity>(new DeviceSecurity(path, std::move(state)));
}

Status DeviceSecurity::SaveLocked() {
  nlohmann::json json = {{"revoked", state_->revoked},
                         {"revoke_message", state_->revoke_message},
                         {"verifiers", nlohmann::json::object()}};
  for (const auto& [officer, v] : state_->verifiers) {
    json["verifiers"][officer] = {{"salt", absl::Base64Escape(v.salt)},
                                  {"hash", absl::Base64Escape(v.hash)},
                                  {"failures", v.failures}};
  }
  const std::string text = json.dump();
  const std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create", tmp);
  bool ok = ::fchmod(fd, 0600) == 0 &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return IoError("cannot write", tmp);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) return IoError("cannot replace", path_);
  return Status();
}

Status DeviceSecurity::CacheOfflineVerifier(const std::string& officer_id,
                                            const std::string& secret, const std::string& salt) {
  if (officer_id.empty() || secret.empty() || salt.empty()) {
    return Status(StatusCode::kInvalidArgument, "invalid_argument",
                  "an offline verifier needs the officer id, the secret and the session's "
                  "offline_salt");
  }
  auto hash = sync::Scrypt(secret, salt);
  if (!hash.ok()) return Status(StatusCode::kInternal, "", std::string(hash.status().message()));
  std::lock_guard<std::mutex> lock(mutex_);
  if (Status s = Load(path_, state_.get()); !s.ok()) return s;
  state_->verifiers[officer_id] = {salt, *hash, 0};
  return SaveLocked();
}

Status DeviceSecurity::UnlockOffline(const std::string& officer_id, const std::string& secret) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (Status s = Load(path_, state_.get()); !s.ok()) return s;
  if (state_->revoked) {
    return Status(StatusCode::kPermissionDenied, "device_revoked",
                  "this device was revoked: " + state_->revoke_message);
  }
  auto it = state_->verifiers.find(officer_id);
  if (it == state_->verifiers.end()) {
    return Status(StatusCode::kNotFound, "no_offline_verifier",
                  "officer " + officer_id + " has not signed in online on this device yet");
  }
  State::Verifier& v = it->second;
  if (v.failures >= kMaxOfflineFailures) {
    return Status(StatusCode::kPermissionDenied, "offline_unlock_locked",
                  absl::StrCat("offline unlock of officer ", officer_id, " is locked after ",
                               kMaxOfflineFailures, " wrong secrets; sign in online"));
  }
  // The hash takes ~0.1 s; the lock keeps concurrent guesses counted.
  auto hash = sync::Scrypt(secret, v.salt);
  if (!hash.ok()) return Status(StatusCode::kInternal, "", std::string(hash.status().message()));
  if (sync::ConstantTimeEqual(*hash, v.hash)) {
    if (v.failures != 0) {
      v.failures = 0;
      return SaveLocked();
    }
    return Status();
  }
  ++v.failures;
  if (Status s = SaveLocked(); !s.ok()) return s;
  return Status(StatusCode::kUnauthenticated, "wrong_secret",
                absl::StrCat("wrong secret for officer ", officer_id, "; ",
                             kMaxOfflineFailures - v.failures, " attempts left"));
}

Result<bool> DeviceSecurity::RecordSyncStatus(const Status& sync_status) {
  if (sync_status.reason() != "device_revoked") return false;
  std::lock_guard<std::mutex> lock(mutex_);
  if (Status s = Load(path_, state_.get()); !s.ok()) return s;
  state_->revoked = true;
  state_->revoke_message = sync_status.message();
  if (Status s = SaveLocked(); !s.ok()) return s;
  return true;
}

bool DeviceSecurity::IsRevoked() const {
  std::lock_guard<std::mutex> lock(mutex_);
  (void)Load(path_, state_.get());  // a file gone bad keeps what was known
  return state_->revoked;
}

std::string DeviceSecurity::revoke_message() const {
  std::lock_guard<std::mutex> lock(mutex_);
  (void)Load(path_, state_.get());
  return state_->revoke_message;
}

Status Client::WipeStore(const ClientOptions& options) {
  if (options.db_path.empty()) {
    return Status(StatusCode::kInvalidArgument, "invalid_argument", "db_path is empty");
  }
  Status first;
  for (const std::string& path :
       {options.db_path, options.db_path + "-wal", options.db_path + "-shm",
        options.db_path + "-journal", DeviceSecurity::PathFor(options.db_path)}) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT && first.ok()) {
      first = IoError("cannot delete", path);
    }
  }
  if (options.key_provider != nullptr) {
    Status key = options.key_provider->DeleteKey(options.key_name);
    if (!key.ok() && first.ok()) first = key;
  }
  return first;
}

}  // namespace palm
