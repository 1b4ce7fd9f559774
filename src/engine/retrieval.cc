#include "engine/retrieval.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/crash_point.h"
#include "core/error.h"
#include "core/file.h"
#include "core/file_system.h"

namespace gb {

std::string StagingDir(const Workspace& ws) { return JoinPath(ws.config().state_dir, "staging"); }

std::string StagingPath(const Workspace& ws, const RetrievalRequest& r) {
  std::string id = r.archive_id.size() > 48 ? r.archive_id.substr(0, 48) : r.archive_id;
  for (char& c : id)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') c = '_';
  return ChildPath(StagingDir(ws), id + "-" + std::to_string(r.range.offset) + "-" +
                                       std::to_string(r.range.length) + ".part");
}

ByteRange AlignRange(uint64_t offset, uint64_t length, uint64_t alignment, uint64_t size) {
  if (alignment <= 1) return {offset, length};
  uint64_t start = offset / alignment * alignment;
  uint64_t end = offset + length;
  end = (end + alignment - 1) / alignment * alignment;
  if (end > size) end = size;
  return {start, end - start};
}

static bool SameRequest(const JobRecord& j, const RetrievalRequest& r) {
  return j.kind == JobKind::kRetrieval && j.archive_id == r.archive_id &&
         j.range_offset.value_or(0) == r.range.offset &&
         j.range_length.value_or(0) == r.range.length;
}

std::optional<JobRecord> RecordedJob(Workspace& ws, const RetrievalRequest& r) {
  VaultState vs(ws.catalog());
  std::optional<JobRecord> best;
  for (const JobRecord& j : vs.Jobs())
    if (SameRequest(j, r) &&
        (j.status == JobRecordStatus::kInProgress || j.status == JobRecordStatus::kSucceeded))
      best = j;
  return best;
}

static std::string IntentId(const RetrievalRequest& r) {
  return "starting:" + r.archive_id + ":" + std::to_string(r.range.offset) + ":" +
         std::to_string(r.range.length);
}

bool RetrievalRequested(Workspace& ws, const RetrievalRequest& r) {
  if (RecordedJob(ws, r)) return true;
  for (const JobRecord& j : VaultState(ws.catalog()).Jobs(JobRecordStatus::kStarting))
    if (j.job_id == IntentId(r)) return true;
  return false;
}

static uint64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

namespace {

// Appends to the staging file and fsyncs what it wrote when finished. A vault
// that sends more than `limit` bytes is refused before the file grows past it.
class AppendSink : public ByteSink {
 public:
  AppendSink(const std::string& path, uint64_t limit) : path_(path), left_(limit) {
    fd_ = Fd(Fs().Open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (!fd_.valid()) ThrowErrno("open " + path);
    sink_ = std::make_unique<FdSink>(fd_.get(), path);
  }
  void Write(std::span<const uint8_t> d) override {
    if (d.size() > left_)
      throw Error(Code::kCorruption, "the vault sent more bytes than were asked for (" + path_ +
                                         "); the download was stopped");
    left_ -= d.size();
    sink_->Write(d);
  }
  using ByteSink::Write;
  void Finish() override {
    sink_->Flush();
    if (Fs().Fsync(fd_.get()) != 0) ThrowErrno("fsync " + path_);
  }

 private:
  std::string path_;
  uint64_t left_;
  Fd fd_;
  std::unique_ptr<FdSink> sink_;
};

}  // namespace

RetrievalState AdvanceRetrieval(Workspace& ws, Vault& vault, const RetrievalRequest& r,
                                Progress& progress, Clock& clock) {
  MakeDirs(StagingDir(ws), 0700);
  const std::string part = StagingPath(ws, r);
  uint64_t have = FileSize(part);
  if (have > r.range.length) {  // cannot happen unless the file was tampered with
    Fs().Unlink(part.c_str());
    have = 0;
  }
  VaultState vs(ws.catalog());
  std::optional<JobRecord> job = RecordedJob(ws, r);
  if (have == r.range.length) {  // a run killed after the download finished
    if (job) {
      job->status = JobRecordStatus::kDone;
      vs.PutJob(*job);
    }
    return RetrievalState::kDownloaded;
  }
  // The request is recorded as "Starting" before the vault is asked, and as
  // its job once the vault answers: a run killed in between finds the marker
  // and adopts the vault's job instead of starting (and paying for) a second.
  JobRecord intent;
  intent.job_id = IntentId(r);
  intent.kind = JobKind::kRetrieval;
  intent.archive_id = r.archive_id;
  intent.tier = TierName(r.tier);
  intent.range_offset = r.range.offset;
  intent.range_length = r.range.length;
  intent.purpose = r.purpose;
  intent.status = JobRecordStatus::kStarting;
  auto record = [&](const std::string& job_id) {
    JobRecord j = intent;
    j.job_id = job_id;
    j.status = JobRecordStatus::kInProgress;
    Transaction t(ws.catalog().db());
    vs.DeleteJob(intent.job_id);
    vs.PutJob(j);
    t.Commit();
    return j;
  };
  auto start = [&]() {
    intent.started = clock.NowSeconds();
    vs.PutJob(intent);
    std::string job_id = vault.StartRetrieval(r.archive_id, r.tier, r.range);
    CrashPoint("retrieval-after-start");
    JobRecord j = record(job_id);
    progress.Notice("archive " + r.archive_id.substr(0, 16),
                    std::string("retrieval started (") + TierName(r.tier) + " tier, job " +
                        j.job_id.substr(0, 16) + ")",
                    false);
    return j;
  };
  if (!job) {
    bool asked = false;
    for (const JobRecord& j : vs.Jobs(JobRecordStatus::kStarting))
      asked |= j.job_id == intent.job_id;
    if (asked) {
      for (const JobInfo& v : vault.ListJobs()) {
        if (v.kind != JobKind::kRetrieval || v.archive_id != r.archive_id ||
            v.status == JobStatus::kFailed)
          continue;
        ByteRange got = v.range.value_or(ByteRange{0, ByteRange::kToEnd});
        if (got.offset != r.range.offset ||
            (got.length != r.range.length && got.length != ByteRange::kToEnd))
          continue;
        job = record(v.id);
        progress.Notice(
            "archive " + r.archive_id.substr(0, 16),
            "found the retrieval an interrupted run started (job " + v.id.substr(0, 16) + ")",
            false);
        break;
      }
    }
  }
  auto expire = [&](JobRecord j, const std::string& why) {
    j.status = JobRecordStatus::kExpired;
    j.message = why;
    vs.PutJob(j);
    progress.Notice("job " + j.job_id.substr(0, 16), why + "; starting the retrieval again", true);
  };
  if (!job) {
    start();
    return RetrievalState::kWaiting;
  }
  JobInfo info;
  try {
    info = vault.DescribeJob(job->job_id);
  } catch (const Error& e) {
    if (e.code() != Code::kNotFound) throw;
    expire(*job, "the vault no longer knows the job (its output expired)");
    start();
    return RetrievalState::kWaiting;
  }
  if (info.status == JobStatus::kInProgress) return RetrievalState::kWaiting;
  if (info.status == JobStatus::kFailed) {
    JobRecord j = *job;
    j.status = JobRecordStatus::kFailed;
    j.message = info.status_message;
    vs.PutJob(j);
    progress.Notice("job " + j.job_id.substr(0, 16),
                    "failed: " + info.status_message + "; starting the retrieval again", true);
    start();
    return RetrievalState::kWaiting;
  }
  if (job->status != JobRecordStatus::kSucceeded) {
    job->status = JobRecordStatus::kSucceeded;
    job->completed = info.completed.value_or(clock.NowSeconds());
    vs.PutJob(*job);
  }
  // Where the requested bytes start in the job's output. A backend that ignored
  // the range it was asked for (moto's Glacier) retrieved the whole archive, and
  // its job says so by naming no range: the bytes then sit at their archive offset.
  uint64_t at = 0;
  if (!info.range) {
    at = r.range.offset;
  } else if (info.range->offset <= r.range.offset) {
    at = r.range.offset - info.range->offset;
  } else {
    throw Error(Code::kCorruption, "vault job " + job->job_id + " retrieved archive " +
                                       r.archive_id + " from byte " +
                                       std::to_string(info.range->offset) + ", not from byte " +
                                       std::to_string(r.range.offset) + " as asked");
  }
  if (info.output_size && *info.output_size < at + r.range.length) {
    throw Error(Code::kCorruption, "vault job " + job->job_id + " holds " +
                                       std::to_string(*info.output_size) + " bytes of archive " +
                                       r.archive_id + ", fewer than the " +
                                       std::to_string(r.range.length) + " asked for from byte " +
                                       std::to_string(r.range.offset));
  }
  try {
    AppendSink out(part, r.range.length - have);
    vault.ReadJobOutput(job->job_id, ByteRange{at + have, r.range.length - have}, out);
    out.Finish();
    CrashPoint("retrieval-after-download");
  } catch (const JobNotReadyError&) {
    return RetrievalState::kWaiting;
  } catch (const Error& e) {
    if (e.code() != Code::kNotFound) throw;
    expire(*job, "the job's output expired before it was downloaded");
    start();
    return RetrievalState::kWaiting;
  }
  have = FileSize(part);
  if (have != r.range.length) {
    if (have > r.range.length) Fs().Unlink(part.c_str());
    throw Error(Code::kCorruption, "retrieved " + std::to_string(have) + " bytes of archive " +
                                       r.archive_id + ", expected " +
                                       std::to_string(r.range.length) + "; run again to resume");
  }
  JobRecord done = *job;
  done.status = JobRecordStatus::kDone;
  vs.PutJob(done);
  return RetrievalState::kDownloaded;
}

}  // namespace gb
