// Where the key that encrypts party personal data at rest comes from.
//
// The integrator supplies the key through a KeyProvider: on a handheld that
// is Android Keystore or the iOS Keychain, so the key never sits beside the
// database in plain text (DESIGN.md §4). FileKeyProvider is for tests, tools
// and development machines.
#ifndef PALM_KEY_PROVIDER_H_
#define PALM_KEY_PROVIDER_H_

#include <array>
#include <cstdint>
#include <string>

#include "palm/export.h"
#include "palm/status.h"

namespace palm {

// A 256-bit AES key.
using Key256 = std::array<uint8_t, 32>;

// Supplies 32-byte keys by name.
//
// Implementations must be thread-safe: the library may call GetKey from any
// thread, though it calls it only while opening a Client.
class PALM_EXPORT KeyProvider {
 public:
  virtual ~KeyProvider();

  // Returns the key called `name`, creating it the first time if the
  // provider can (a device key is made once and then kept). Returns a
  // non-OK status when the key is unavailable (e.g. the keystore is locked);
  // the library then refuses to open the database.
  virtual Result<Key256> GetKey(const std::string& name) = 0;

  // Destroys the key called `name` (Client::WipeStore, after a revocation).
  // OK when it does not exist. The default returns UNIMPLEMENTED (reason
  // "cannot_delete_key"): a provider that keeps keys must override it.
  virtual Status DeleteKey(const std::string& name);
};

// Keeps each key in its own file `<directory>/<name>.key` (32 random bytes,
// mode 0600, directory 0700), creating it on first use from OpenSSL's CSPRNG.
//
// The directory must not be the directory that holds the database: a copy of
// the database folder must not carry its key. Client::Open refuses a
// FileKeyProvider whose directory is the database's directory.
//
// Thread-safe.
class PALM_EXPORT FileKeyProvider : public KeyProvider {
 public:
  // Uses `directory` (created with mode 0700 if missing) for key files.
  explicit FileKeyProvider(std::string directory);
  ~FileKeyProvider() override;

  // Reads `<directory>/<name>.key`, or creates it. Fails with
  // INVALID_ARGUMENT for a name that is empty or contains '/', DATA_LOSS for
  // a key file that is not exactly 32 bytes, PERMISSION_DENIED when the key
  // file is readable by group or others, and INTERNAL on I/O errors.
  Result<Key256> GetKey(const std::string& name) override;

  // Deletes `<directory>/<name>.key`. OK when it is already gone.
  Status DeleteKey(const std::string& name) override;

  // The directory keys live in.
  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
};

}  // namespace palm

#endif  // PALM_KEY_PROVIDER_H_
