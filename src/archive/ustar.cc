#include "archive/ustar.h"

#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace gb {

static void Octal(char* field, size_t width, uint64_t v) {
  std::snprintf(field, width, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(v));
}

Bytes UstarFileHeader(const std::string& name, uint64_t size, int64_t mtime, uint32_t mode) {
  if (name.size() >= 100) throw Error(Code::kInternal, "bundle member name too long: " + name);
  Bytes h(512, 0);
  char* c = reinterpret_cast<char*>(h.data());
  std::memcpy(c, name.data(), name.size());
  Octal(c + 100, 8, mode);
  Octal(c + 108, 8, 0);
  Octal(c + 116, 8, 0);
  if (size < (1ull << 33)) {
    Octal(c + 124, 12, size);
  } else {  // base-256: high bit set, big-endian value in the rest
    h[124] = 0x80;
    for (int i = 0; i < 8; ++i) h[135 - i] = static_cast<uint8_t>(size >> (8 * i));
  }
  Octal(c + 136, 12, static_cast<uint64_t>(mtime < 0 ? 0 : mtime));
  std::memset(c + 148, ' ', 8);
  c[156] = '0';
  std::memcpy(c + 257, "ustar", 6);
  std::memcpy(c + 263, "00", 2);
  unsigned sum = 0;
  for (uint8_t b : h) sum += b;
  std::snprintf(c + 148, 8, "%06o", sum);
  c[155] = ' ';
  return h;
}

}  // namespace gb
