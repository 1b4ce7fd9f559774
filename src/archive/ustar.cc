#include "archive/ustar.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace gb {

// Writes v as width-1 zero-padded octal digits and a NUL.
static void Octal(char* field, size_t width, uint64_t v) {
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0; v >>= 3) field[i] = static_cast<char>('0' + (v & 7));
  if (v != 0) throw Error(Code::kInternal, "value too large for a ustar header field");
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
  constexpr int64_t kMaxOctalTime = (int64_t{1} << 33) - 1;  // 11 octal digits
  Octal(c + 136, 12, static_cast<uint64_t>(std::clamp<int64_t>(mtime, 0, kMaxOctalTime)));
  std::memset(c + 148, ' ', 8);
  c[156] = '0';
  std::memcpy(c + 257, "ustar", 6);
  std::memcpy(c + 263, "00", 2);
  unsigned sum = 0;
  for (uint8_t b : h) sum += b;
  Octal(c + 148, 7, sum);  // at most 512 * 255: six digits
  c[155] = ' ';
  return h;
}

}  // namespace gb
