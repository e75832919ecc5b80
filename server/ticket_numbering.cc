#include "server/ticket_numbering.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "sync/fsync.h"

namespace palm::server {
namespace {

namespace v1 = palm::v1;

constexpr char kLeaseDomain[] = "palm ticket lease v1\n";
constexpr char kFenceHeader[] = "palm ticket-number fence v1";

void PutInt(std::string* out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (i * 8)) & 0xff));
}

void PutString(std::string* out, const std::string& s) {
  PutInt(out, s.size());
  out->append(s);
}

absl::Status Errno(const std::string& what, int err) {
  const std::string text = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(text);
  return absl::InternalError(text);
}

// The fence's number, or nullopt when the file does not exist.
absl::StatusOr<std::optional<int64_t>> ReadFence(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::nullopt;
    return Errno(absl::StrCat("reading the ticket-number fence ", path), errno);
  }
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> lines = absl::StrSplit(text.str(), '\n');
  int64_t number = 0;
  if (lines.size() != 3 || lines[0] != kFenceHeader || !lines[2].empty() ||
      !absl::SimpleAtoi(lines[1], &number) || number < 0) {
    return absl::DataLossError(absl::StrCat(
        "the ticket-number fence ", path,
        " is not one (it holds the highest ticket number ever leased); move it away and start "
        "with --ticket-number-floor N, N at least the highest ticket number any device may hold"));
  }
  return number;
}

}  // namespace

std::string TicketLeaseBytes(const v1::TicketLease& lease) {
  std::string bytes(kLeaseDomain);
  PutString(&bytes, lease.lease_id());
  PutString(&bytes, lease.device_id());
  PutString(&bytes, lease.prefix());
  PutInt(&bytes, static_cast<uint64_t>(lease.first_number()));
  PutInt(&bytes, static_cast<uint64_t>(lease.last_number()));
  PutInt(&bytes, static_cast<uint64_t>(lease.leased_at_ms()));
  return bytes;
}

absl::StatusOr<std::unique_ptr<TicketNumbering>> TicketNumbering::Open(
    const TicketNumberingOptions& options, sync::UniqueEvpPkey key) {
  const std::string path = absl::StrCat(options.data_dir, "/", kTicketFenceFile);
  absl::StatusOr<std::optional<int64_t>> fence = ReadFence(path);
  if (!fence.ok()) return fence.status();
  if (!fence->has_value() && options.after_restore && options.floor == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data directory has no ticket-number fence (", path,
        "): after a restore the server cannot know which ticket numbers it leased after the "
        "backup was taken; keep the directory's fence when restoring (palm-server "
        "--restore-from does), or start with --ticket-number-floor N, N at least the highest "
        "ticket number any device may hold"));
  }
  const int64_t highest = std::max({fence->value_or(0), options.store_highest, options.floor});
  std::unique_ptr<TicketNumbering> numbering(new TicketNumbering(path, 0, std::move(key)));
  if (!fence->has_value() || highest > **fence) {
    std::lock_guard<std::mutex> lock(numbering->mutex_);
    if (absl::Status s = numbering->WriteLocked(highest); !s.ok()) return s;
  }
  numbering->highest_ = highest;
  return numbering;
}

int64_t TicketNumbering::Highest() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return highest_;
}

absl::Status TicketNumbering::Raise(int64_t number) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (number <= highest_) return absl::OkStatus();
  if (absl::Status s = WriteLocked(number); !s.ok()) return s;
  highest_ = number;
  return absl::OkStatus();
}

// Writes <path>.tmp, fsyncs it, renames it over the fence and fsyncs the
// directory: the fence is either the old number or the new one, durably.
absl::Status TicketNumbering::WriteLocked(int64_t number) {
  const std::string tmp = path_ + ".tmp";
  const std::string content = absl::StrCat(kFenceHeader, "\n", number, "\n");
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno(absl::StrCat("creating ", tmp), errno);
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : ENOSPC;
      ::close(fd);
      ::unlink(tmp.c_str());
      return Errno(absl::StrCat("writing the ticket-number fence ", tmp), err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return Errno(absl::StrCat("fsync of the ticket-number fence ", tmp), err);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    return Errno(absl::StrCat("renaming ", tmp, " to ", path_), errno);
  }
  const std::string dir = path_.substr(0, path_.rfind('/'));
  if (sync::FsyncFailure f = sync::FsyncPath(dir.empty() ? "/" : dir); f.err != 0) {
    return Errno(absl::StrCat(f.step, " of ", dir), f.err);
  }
  return absl::OkStatus();
}

absl::Status TicketNumbering::Sign(v1::TicketLease* lease) const {
  if (key_ == nullptr) return absl::OkStatus();
  absl::StatusOr<std::string> signature = sync::Ed25519Sign(key_.get(), TicketLeaseBytes(*lease));
  if (!signature.ok()) return signature.status();
  lease->set_server_signature(*signature);
  return absl::OkStatus();
}

bool TicketNumbering::SignatureValid(const v1::TicketLease& lease) const {
  return key_ != nullptr && !lease.server_signature().empty() &&
         sync::Ed25519Verify(key_.get(), TicketLeaseBytes(lease), lease.server_signature());
}

}  // namespace palm::server
