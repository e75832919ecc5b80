// The key under which a party's prior violations are recorded (Art. 33's
// first-violation check), shared by the server and the device.
//
// A Chinese ID number has little entropy (region, birth date, a sequence
// and a check digit): a plain or unsalted digest of it is reversed offline
// by trying every candidate. Prior violations are therefore keyed by
//
//   party_key = hex( HMAC-SHA-256( secret, SHA-256( normalised ID number ) ) )
//
// under the bureau's party-key secret: 32 random bytes that the server
// keeps (<data dir>/party-key.secret) and hands to enrolled devices, which
// keep it sealed under their KeyProvider's key, never in the clear. The
// inner SHA-256 is the key older servers used (LegacyPartyKey), so a record
// under an old key is rekeyed without its ID number (Rekey).
#ifndef PALM_SYNC_PARTY_KEY_H_
#define PALM_SYNC_PARTY_KEY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "sync/hmac.h"

namespace palm::sync {

// Size of the secret in bytes.
inline constexpr size_t kPartyKeySecretSize = 32;

// The bureau's party-key secret. Copies share one keyed HMAC; thread-safe.
class PartyKeySecret {
 public:
  // INVALID_ARGUMENT unless `bytes` is exactly kPartyKeySecretSize bytes.
  static absl::StatusOr<PartyKeySecret> FromBytes(absl::string_view bytes);

  // Names the secret without revealing it: the first 16 lowercase hex
  // digits of SHA-256("palm party key id v1\n" || secret).
  const std::string& key_id() const { return state_->key_id; }
  // The secret itself, to hand to a device or to seal.
  const std::string& bytes() const { return state_->bytes; }

  // The key of the party with `id_number` (surrounding whitespace removed,
  // ASCII letters upper-cased, so "33010219900101123x " and
  // "33010219900101123X" have one key).
  std::string KeyOf(absl::string_view id_number) const;
  // The key of the party whose LegacyPartyKey is `legacy_key`;
  // INVALID_ARGUMENT when it is not 64 hex digits.
  absl::StatusOr<std::string> Rekey(absl::string_view legacy_key) const;

 private:
  struct State {
    explicit State(absl::string_view secret);
    ~State();
    std::string bytes;
    std::string key_id;
    HmacSha256 mac;
  };
  explicit PartyKeySecret(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  std::shared_ptr<const State> state_;
};

// The key older servers used: lowercase hex SHA-256 of the normalised ID
// number. Reversible by enumeration; kept only to rekey old records and to
// stay compatible with an older server (a device without the secret).
std::string LegacyPartyKey(absl::string_view id_number);

// secret->KeyOf(id_number), or LegacyPartyKey(id_number) when `secret` is
// null (a device that has not yet synced with a server that has one).
std::string PartyKey(const PartyKeySecret* secret, absl::string_view id_number);

}  // namespace palm::sync

#endif  // PALM_SYNC_PARTY_KEY_H_
