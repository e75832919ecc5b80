// Enrolling a handheld without its private key ever leaving it: the device
// makes its TLS key and a certificate request; the squad's station certifies
// the request (`palmctl device enroll --csr REQUEST --out DIR`) and hands back
// device.crt, ca.crt and device-id.txt (docs/integrating.md, "Enrolling a
// device").
#ifndef PALM_ENROLMENT_H_
#define PALM_ENROLMENT_H_

#include <string>

#include "palm/export.h"
#include "palm/status.h"

namespace palm {

struct EnrolmentRequest {
  // The device id the request names: pass it to ClientOptions::device_id.
  std::string device_id;
  // The PKCS #10 certificate request, PEM: give it to the station.
  std::string csr_pem;
};

// Makes the device's TLS key (ECDSA P-256) and writes it to `key_path`
// (created with mode 0600; an existing file is never overwritten), then
// returns a certificate request for it, signed by it, naming `device_id` (a
// new UUIDv7 when empty) as its subject. Use `key_path` later as
// SyncOptions::client_key_path. Refusals: INVALID_ARGUMENT for an empty path
// or a device id that is not 1..64 characters of [A-Za-z0-9._-];
// ALREADY_EXISTS (reason "key_exists") when `key_path` exists; other codes
// for I/O errors, with the path. Thread-safe.
PALM_EXPORT Result<EnrolmentRequest> CreateEnrolmentRequest(const std::string& key_path,
                                                            const std::string& device_id = "");

}  // namespace palm

#endif  // PALM_ENROLMENT_H_
