// DeviceStore: the officer's online session, sealed like party data.
#include "absl/strings/str_cat.h"
#include "client-lib/src/device_store.h"
#include "client-lib/src/macros.h"

namespace palm::internal {
namespace {

constexpr char kPutSession[] =
    "INSERT INTO officer_session (id, obtained_at_ms, sealed) VALUES (1, ?1, ?2) "
    "ON CONFLICT (id) DO UPDATE SET obtained_at_ms = excluded.obtained_at_ms, "
    "sealed = excluded.sealed";
constexpr char kSelectSession[] = "SELECT obtained_at_ms, sealed FROM officer_session WHERE id = 1";
constexpr char kDeleteSession[] = "DELETE FROM officer_session";

// Binds the sealed token to this device: a row copied into another
// device's database does not open.
std::string SessionAad(absl::string_view device_id) {
  return absl::StrCat("palm/officer-session/v1|", device_id);
}

}  // namespace

void DeviceStore::ClearActingOfficer() {
  std::lock_guard<std::mutex> lock(mutex_);
  acting_officer_.clear();
}

std::string DeviceStore::acting_officer() {
  std::lock_guard<std::mutex> lock(mutex_);
  return acting_officer_;
}

absl::Status DeviceStore::PutSession(const v1::SessionToken& session, int64_t obtained_at_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(std::string sealed,
                        aead_.Seal(session.SerializeAsString(), SessionAad(device_id_)));
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement put, db_->Prepare(kPutSession));
    return put.Bind(1, obtained_at_ms).BindBlob(2, sealed).Run();
  });
}

absl::StatusOr<std::optional<StoredSession>> DeviceStore::LoadSession() {
  std::lock_guard<std::mutex> lock(mutex_);
  PALM_ASSIGN_OR_RETURN(Statement select, db_->Prepare(kSelectSession));
  PALM_ASSIGN_OR_RETURN(bool row, select.Step());
  if (!row) return std::nullopt;
  StoredSession out;
  out.obtained_at_ms = select.Int(0);
  PALM_ASSIGN_OR_RETURN(std::string plain, aead_.Open(select.Blob(1), SessionAad(device_id_)));
  if (!out.session.ParseFromString(plain)) {
    return absl::DataLossError("the stored officer session cannot be parsed");
  }
  return out;
}

absl::Status DeviceStore::ClearSession() {
  std::lock_guard<std::mutex> lock(mutex_);
  return RunInTransaction([&]() -> absl::Status {
    PALM_ASSIGN_OR_RETURN(Statement del, db_->Prepare(kDeleteSession));
    return del.Run();
  });
}

}  // namespace palm::internal
