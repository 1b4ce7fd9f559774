// The one clock seam: everything that asks "what time is it" asks a Clock,
// so tests can simulate months in milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace gb {

class Clock {
 public:
  virtual ~Clock() = default;
  // Nanoseconds since the Unix epoch, UTC.
  virtual int64_t NowNanos() = 0;
  virtual void SleepNanos(int64_t ns) = 0;
  int64_t NowSeconds() { return NowNanos() / 1000000000; }
};

// The real clock; honours GLACIER_BACKUP_FAKE_NOW (seconds since the epoch, or
// an ISO 8601 UTC time) so end-to-end tests can move time forward.
Clock& SystemClock();

// 20261127T030700Z
std::string FormatCompactUtc(int64_t unix_seconds);
// 2026-11-27T03:07:00Z
std::string FormatIsoUtc(int64_t unix_seconds);
// Parses "2026-11-27", "2026-11-27T03:07:00Z", "2026-11-27 03:07:00", "20261127T030700Z"
// (all UTC) and "@SECONDS". nullopt when unparseable.
std::optional<int64_t> ParseUtc(const std::string& text);

}  // namespace gb
