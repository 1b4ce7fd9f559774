// An rdiff delta as a restore reads it from an archive: its commands read and
// composed twice onto a 64 KiB basis (a chain of two steps), then the result
// written out when it is small, the way archive/rsync_delta_chain composes a
// chain of deltas.
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "archive/rsync_delta_chain.h"
#include "core/error.h"
#include "core/file.h"
#include "core/stream.h"

namespace {

constexpr uint64_t kBasisSize = 64 << 10;

// Counts the bytes written, keeps none.
class CountingSink : public gb::ByteSink {
 public:
  void Write(std::span<const uint8_t> d) override { bytes += d.size(); }
  using gb::ByteSink::Write;
  void Finish() override {}
  uint64_t bytes = 0;
};

gb::Fd MemoryFile(const uint8_t* data, size_t size) {
  gb::Fd fd(::memfd_create("rsync_delta_fuzz", MFD_CLOEXEC));
  size_t done = 0;
  while (fd.valid() && done < size) {
    ssize_t n = ::write(fd.get(), data + done, size - done);
    if (n <= 0) return gb::Fd();
    done += static_cast<size_t>(n);
  }
  return fd;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gb;
  std::vector<uint8_t> basis(kBasisSize);
  for (size_t i = 0; i < basis.size(); ++i) basis[i] = static_cast<uint8_t>(i * 131 + (i >> 8));
  Fd base = MemoryFile(basis.data(), basis.size());
  Fd delta = MemoryFile(data, size);
  if (!base.valid() || !delta.valid()) return 0;
  try {
    RsyncDeltaChain chain(kBasisSize);
    chain.Apply(delta.get(), size, "fuzz");
    chain.Apply(delta.get(), size, "fuzz");
    if (chain.size() <= (uint64_t{1} << 20)) {
      CountingSink out;
      int fds[] = {delta.get(), delta.get()};
      chain.WriteTo(base.get(), fds, out);
      if (out.bytes != chain.size()) __builtin_trap();
    }
  } catch (const Error&) {
  }
  return 0;
}
