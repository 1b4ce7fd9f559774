#include "core/clock.h"

#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

namespace gb {
namespace {

class RealClock : public Clock {
 public:
  RealClock() {
    if (const char* fake = std::getenv("GLACIER_BACKUP_FAKE_NOW")) {
      if (auto t = ParseUtc(fake[0] == '@' ? fake : std::string("@") + fake); t)
        offset_ = *t * 1000000000LL - Real();
      else if (auto t2 = ParseUtc(fake); t2)
        offset_ = *t2 * 1000000000LL - Real();
    }
  }
  int64_t NowNanos() override { return Real() + offset_; }
  void SleepNanos(int64_t ns) override {
    std::this_thread::sleep_for(std::chrono::nanoseconds(ns));
  }

 private:
  static int64_t Real() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t offset_ = 0;
};

}  // namespace

Clock& SystemClock() {
  static RealClock clock;
  return clock;
}

static std::string Format(int64_t t, const char* fmt) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[64];
  strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

std::string FormatCompactUtc(int64_t t) { return Format(t, "%Y%m%dT%H%M%SZ"); }
std::string FormatIsoUtc(int64_t t) { return Format(t, "%Y-%m-%dT%H:%M:%SZ"); }

std::optional<int64_t> ParseUtc(const std::string& text) {
  if (!text.empty() && text[0] == '@') {
    char* end = nullptr;
    long long v = std::strtoll(text.c_str() + 1, &end, 10);
    if (end == text.c_str() + 1 || *end) return std::nullopt;
    return v;
  }
  struct tm tm = {};
  int consumed = 0;
  int Y, M, D, h = 0, m = 0, s = 0;
  char sep;
  const char* c = text.c_str();
  if (std::sscanf(c, "%4d%2d%2dT%2d%2d%2dZ%n", &Y, &M, &D, &h, &m, &s, &consumed) == 6 &&
      consumed == static_cast<int>(text.size())) {
  } else if (std::sscanf(c, "%d-%d-%d%c%d:%d:%d%n", &Y, &M, &D, &sep, &h, &m, &s, &consumed) == 7 &&
             (sep == 'T' || sep == ' ')) {
    std::string rest = text.substr(consumed);
    if (!(rest.empty() || rest == "Z" || rest == "+00:00")) return std::nullopt;
  } else if (std::sscanf(c, "%d-%d-%d%n", &Y, &M, &D, &consumed) == 3 &&
             consumed == static_cast<int>(text.size())) {
  } else {
    return std::nullopt;
  }
  if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || s > 60) return std::nullopt;
  tm.tm_year = Y - 1900;
  tm.tm_mon = M - 1;
  tm.tm_mday = D;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace gb
