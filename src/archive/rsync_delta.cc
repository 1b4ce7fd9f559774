#include "archive/rsync_delta.h"

#include <librsync.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "core/error.h"

namespace gb {

// Drives one rs_job_t: input is kept until the job takes it, output goes to a sink.
class RsyncJob {
 public:
  RsyncJob(rs_job_t* job, ByteSink* out, const char* what) : job_(job), out_(out), what_(what) {
    if (!job_) throw Error(Code::kInternal, std::string("librsync: cannot start ") + what);
  }
  ~RsyncJob() { rs_job_free(job_); }

  void Feed(std::span<const uint8_t> data, bool eof) {
    if (done_) {
      if (!data.empty())
        throw Error(Code::kCorruption, std::string("librsync ") + what_ + ": data after the end");
      return;
    }
    pending_.insert(pending_.end(), data.begin(), data.end());
    rs_buffers_t b{};
    b.eof_in = eof ? 1 : 0;
    size_t used = 0;
    for (;;) {
      b.next_in = reinterpret_cast<char*>(pending_.data() + used);
      b.avail_in = pending_.size() - used;
      b.next_out = out_buf_;
      b.avail_out = sizeof out_buf_;
      size_t in_before = b.avail_in;
      rs_result r = rs_job_iter(job_, &b);
      used += in_before - b.avail_in;
      size_t produced = sizeof out_buf_ - b.avail_out;
      if (produced && out_) out_->Write(out_buf_, produced);
      if (r == RS_DONE) {
        done_ = true;
        break;
      }
      if (r != RS_BLOCKED)
        throw Error(Code::kCorruption, std::string("librsync ") + what_ + ": " + rs_strerror(r));
      if (produced == 0 && in_before == b.avail_in) {
        if (!eof) break;  // needs more input
        throw Error(Code::kCorruption, std::string("librsync ") + what_ + ": input ended early");
      }
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(used));
  }

  void Finish() {
    if (!done_) Feed({}, true);
    if (out_) out_->Finish();
  }

 private:
  rs_job_t* job_;
  ByteSink* out_;
  const char* what_;
  std::vector<uint8_t> pending_;
  char out_buf_[64 << 10];
  bool done_ = false;
};

RsyncSignatureSink::RsyncSignatureSink(uint64_t size, ByteSink& out) {
  rs_magic_number magic = RS_RK_BLAKE2_SIG_MAGIC;
  size_t block_len = 0, strong_len = 0;
  rs_result r = rs_sig_args(static_cast<rs_long_t>(size), &magic, &block_len, &strong_len);
  if (r != RS_DONE) throw Error(Code::kInternal, std::string("librsync: ") + rs_strerror(r));
  job_ = std::make_unique<RsyncJob>(rs_sig_begin(block_len, strong_len, magic), &out, "signature");
}
RsyncSignatureSink::~RsyncSignatureSink() = default;
void RsyncSignatureSink::Write(std::span<const uint8_t> data) { job_->Feed(data, false); }
void RsyncSignatureSink::Finish() { job_->Finish(); }

struct RsyncDeltaSink::Signature {
  rs_signature_t* sums = nullptr;
  ~Signature() {
    if (sums) rs_free_sumset(sums);
  }
};

RsyncDeltaSink::RsyncDeltaSink(std::span<const uint8_t> signature, ByteSink& out)
    : sig_(std::make_unique<Signature>()) {
  {
    RsyncJob load(rs_loadsig_begin(&sig_->sums), nullptr, "signature load");
    load.Feed(signature, true);
  }
  if (!sig_->sums) throw Error(Code::kCorruption, "librsync: empty signature");
  rs_result r = rs_build_hash_table(sig_->sums);
  if (r != RS_DONE) throw Error(Code::kCorruption, std::string("librsync: ") + rs_strerror(r));
  job_ = std::make_unique<RsyncJob>(rs_delta_begin(sig_->sums), &out, "delta");
}
RsyncDeltaSink::~RsyncDeltaSink() = default;
void RsyncDeltaSink::Write(std::span<const uint8_t> data) { job_->Feed(data, false); }
void RsyncDeltaSink::Finish() { job_->Finish(); }

namespace {

rs_result CopyFromBasis(void* opaque, rs_long_t pos, size_t* len, void** buf) {
  int fd = *static_cast<int*>(opaque);
  size_t got = 0;
  while (got < *len) {
    ssize_t n = ::pread(fd, static_cast<char*>(*buf) + got, *len - got,
                        static_cast<off_t>(pos) + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return RS_IO_ERROR;
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  *len = got;
  return got == 0 ? RS_INPUT_ENDED : RS_DONE;
}

}  // namespace

RsyncPatchSink::RsyncPatchSink(int basis_fd, ByteSink& out)
    : basis_fd_(basis_fd),
      job_(std::make_unique<RsyncJob>(rs_patch_begin(&CopyFromBasis, &basis_fd_), &out, "patch")) {}
RsyncPatchSink::~RsyncPatchSink() = default;
void RsyncPatchSink::Write(std::span<const uint8_t> data) { job_->Feed(data, false); }
void RsyncPatchSink::Finish() { job_->Finish(); }

}  // namespace gb
