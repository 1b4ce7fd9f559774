#include "vault/glacier_multipart.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "core/hex.h"
#include "core/sha256.h"
#include "core/tree_hash.h"
#include "net/uri.h"

namespace gb {
namespace {

// engine/bundle.h's kDescriptionTool; the vault layer cannot include the engine.
constexpr std::string_view kTool = "glacier-backup";
// Parts held in memory at once stay under this, down to one worker.
constexpr uint64_t kPartMemoryBudget = 256ull << 20;
// How far Glacier's clock may be from ours: SigV4 refuses requests beyond it.
constexpr int64_t kClockSkewSeconds = 15 * 60;

struct OpenUpload {
  std::string id, description;
  uint64_t part_size = 0;
  int64_t created = 0;
};

struct StoredPart {
  uint64_t length = 0;
  std::string tree_hash;
};

struct Part {
  uint64_t index = 0, offset = 0;
  Bytes data;
};

std::string UploadPath(const std::string& upload_id) {
  return "/multipart-uploads/" + UriEncode(upload_id);
}

std::vector<OpenUpload> ListOpenUploads(GlacierClient& client) {
  std::vector<OpenUpload> uploads;
  GlacierRequest request;
  request.path = "/multipart-uploads";
  ListPages(client, request, "ListMultipartUploads", "UploadsList", "listing multipart uploads",
            [&](const nlohmann::json& u) {
              OpenUpload open;
              open.id = GlacierString(u, "MultipartUploadId");
              open.description = GlacierString(u, "ArchiveDescription");
              open.part_size = GlacierSize(u, "PartSizeInBytes").value_or(0);
              open.created = ParseGlacierDate(GlacierString(u, "CreationDate")).value_or(0);
              if (!open.id.empty()) uploads.push_back(std::move(open));
            });
  return uploads;
}

void AbortUpload(GlacierClient& client, const std::string& upload_id) {
  GlacierRequest request;
  request.method = "DELETE";
  request.path = UploadPath(upload_id);
  HttpResponse response = client.Send(request);
  if (response.status / 100 == 2) return;
  if (response.status == 404 && !GlacierClient::IsMissingVault(ParseAwsError(response))) return;
  client.Fail(response, "aborting multipart upload " + upload_id);
}

// The parts an open upload holds by offset; nullopt when the upload is gone.
std::optional<std::map<uint64_t, StoredPart>> ListUploadedParts(GlacierClient& client,
                                                                const std::string& upload_id) {
  std::map<uint64_t, StoredPart> parts;
  GlacierRequest request;
  request.path = UploadPath(upload_id);
  auto upload_gone = [](const HttpResponse& response) {
    return response.status == 404 && !GlacierClient::IsMissingVault(ParseAwsError(response));
  };
  bool listed = ListPages(
      client, request, "ListParts", "Parts", "listing parts of upload " + upload_id,
      [&](const nlohmann::json& p) {
        unsigned long long first = 0, last = 0;
        std::string range = GlacierString(p, "RangeInBytes");
        if (std::sscanf(range.c_str(), "%llu-%llu", &first, &last) != 2 || last < first)
          throw Error(Code::kCorruption, "Glacier listed a part with the range '" + range + "'");
        parts[first] = {last - first + 1, GlacierString(p, "SHA256TreeHash")};
      },
      upload_gone);
  if (!listed) return std::nullopt;
  return parts;
}

// Runs `abort` (ending uploads that cannot be resumed), retrying with twice
// the attempts of `retry` (nothing comes after it to try again); never throws
// (the failure that led here matters more).
void AbortQuietly(Clock& clock, RetryOptions retry, const std::function<void()>& abort) {
  retry.max_attempts *= 2;
  try {
    RetryPolicy(clock, retry).Run(abort);
  } catch (const std::exception&) {
    // Glacier drops an idle upload after about a day.
  }
}

std::string InitiateUpload(GlacierClient& client, Clock& clock, const std::string& description,
                           uint64_t part_size, bool resumable, const RetryOptions& retry) {
  GlacierRequest request;
  request.method = "POST";
  request.path = "/multipart-uploads";
  request.headers.emplace_back("x-amz-part-size", std::to_string(part_size));
  if (!description.empty()) request.headers.emplace_back("x-amz-archive-description", description);
  const int64_t sent = clock.NowSeconds();
  HttpResponse response;
  try {
    response = client.Send(request);
  } catch (const Error& e) {
    // No answer: Glacier may have started the upload all the same. One of ours
    // is found and resumed by the next attempt; any other could never be
    // found again, so it is looked for now (same description and part size,
    // created since the request was sent, give or take the clock skew SigV4
    // allows) and aborted.
    if (e.code() == Code::kTransient && !resumable) {
      AbortQuietly(clock, retry, [&] {
        for (const OpenUpload& u : ListOpenUploads(client)) {
          if (u.description == description && u.part_size == part_size &&
              u.created >= sent - kClockSkewSeconds) {
            AbortUpload(client, u.id);
          }
        }
      });
    }
    throw;
  }
  if (response.status / 100 != 2) client.Fail(response, "starting a multipart upload");
  std::string id = response.headers.Get("x-amz-multipart-upload-id").value_or("");
  if (id.empty())
    throw Error(Code::kCorruption, "Glacier started a multipart upload without an id");
  return id;
}

void SendPart(GlacierClient& client, Clock& clock, const RetryOptions& retry,
              const std::string& upload_id, const Part& part, const Digest& tree_hash) {
  std::string hash = Hex(tree_hash);
  std::string range =
      std::to_string(part.offset) + "-" + std::to_string(part.offset + part.data.size() - 1);
  SpanSource body(part.data);
  GlacierRequest request;
  request.method = "PUT";
  request.path = UploadPath(upload_id);
  request.headers = {{"Content-Range", "bytes " + range + "/*"}, {"x-amz-sha256-tree-hash", hash}};
  request.body = &body;
  request.payload_hash = Hex(Sha256::Of(part.data));
  RetryPolicy policy(clock, retry);
  policy.Run([&] {
    HttpResponse response = client.Send(request);
    if (response.status / 100 != 2) client.Fail(response, "part " + range + " of upload");
    std::string echoed = response.headers.Get("x-amz-sha256-tree-hash").value_or(hash);
    if (echoed != hash) {
      throw Error(Code::kCorruption, "Glacier stored part " + range + " with tree hash " + echoed +
                                         ", not the " + hash + " sent");
    }
  });
}

// A bounded hand-off from the reading thread to the part workers.
class PartQueue {
 public:
  explicit PartQueue(size_t capacity) : capacity_(capacity) {}

  // Blocks while full; false once a worker failed (the part is dropped).
  bool Push(Part part) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return parts_.size() < capacity_ || failure_; });
    if (failure_) return false;
    parts_.push_back(std::move(part));
    cv_.notify_all();
    return true;
  }
  // Blocks; nullopt once closed and drained, or after a failure.
  std::optional<Part> Pop() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !parts_.empty() || closed_ || failure_; });
    if (failure_ || parts_.empty()) return std::nullopt;
    Part part = std::move(parts_.front());
    parts_.pop_front();
    cv_.notify_all();
    return part;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  void Fail(std::exception_ptr e) {
    std::lock_guard lock(mu_);
    if (!failure_) failure_ = e;
    cv_.notify_all();
  }
  std::exception_ptr failure() {
    std::lock_guard lock(mu_);
    return failure_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Part> parts_;
  size_t capacity_;
  bool closed_ = false;
  std::exception_ptr failure_;
};

// Sends the parts `stored` lacks (or holds with another tree hash) and completes the upload.
UploadResult SendAndComplete(GlacierClient& client, Clock& clock, RewindableSource& body,
                             const std::string& upload_id, uint64_t part_size,
                             std::map<uint64_t, StoredPart> stored,
                             const GlacierMultipartOptions& options) {
  const uint64_t size = body.Size();
  const uint64_t part_count = (size + part_size - 1) / part_size;
  // The reading thread feeds the workers; each worker borrows its own connection.
  uint64_t memory_parts = std::max<uint64_t>(3, kPartMemoryBudget / part_size);
  size_t workers = static_cast<size_t>(std::clamp<uint64_t>(
      std::min<uint64_t>(part_count, memory_parts - 2), 1, std::max(1, options.threads)));
  std::vector<Digest> hashes(part_count);
  PartQueue queue(1);
  std::vector<std::thread> pool;
  std::exception_ptr source_error;
  try {
    for (size_t w = 0; w < workers; ++w) {
      pool.emplace_back([&] {
        try {
          while (std::optional<Part> part = queue.Pop()) {
            Digest hash = TreeHashOf(part->data);
            hashes[part->index] = hash;
            auto it = stored.find(part->offset);
            if (it != stored.end() && it->second.length == part->data.size() &&
                it->second.tree_hash == Hex(hash)) {
              continue;  // Glacier already holds this part
            }
            SendPart(client, clock, options.part_retry, upload_id, *part, hash);
          }
        } catch (...) {
          queue.Fail(std::current_exception());
        }
      });
    }
    body.Rewind();
    for (uint64_t i = 0; i < part_count; ++i) {
      Part part{i, i * part_size, Bytes(std::min(part_size, size - i * part_size))};
      ReadUploadBytes(body, part.data, part.offset, size);
      if (!queue.Push(std::move(part))) break;
    }
  } catch (...) {
    source_error = std::current_exception();
  }
  queue.Close();  // workers send what was read, then stop
  for (auto& t : pool) t.join();
  if (source_error) std::rethrow_exception(source_error);
  if (std::exception_ptr e = queue.failure()) std::rethrow_exception(e);

  std::string tree_hash = Hex(CombineTreeHashes(hashes));
  GlacierRequest request;
  request.method = "POST";
  request.path = UploadPath(upload_id);
  request.headers = {{"x-amz-archive-size", std::to_string(size)},
                     {"x-amz-sha256-tree-hash", tree_hash}};
  HttpResponse response = client.Send(request);
  if (response.status / 100 != 2) client.Fail(response, "completing multipart upload");
  UploadResult result;
  result.archive_id = response.headers.Get("x-amz-archive-id").value_or("");
  if (result.archive_id.empty()) {
    throw Error(Code::kCorruption, "Glacier completed a multipart upload without an archive id");
  }
  std::string echoed = response.headers.Get("x-amz-sha256-tree-hash").value_or(tree_hash);
  if (echoed != tree_hash) {
    throw Error(Code::kCorruption, "Glacier stored archive " + result.archive_id +
                                       " with tree hash " + echoed + ", not the " + tree_hash +
                                       " sent");
  }
  result.tree_hash = tree_hash;
  result.size = size;
  return result;
}

}  // namespace

uint64_t GlacierPartSize(uint64_t size, uint64_t min_part_size) {
  if (min_part_size < kGlacierMinPartSize || min_part_size > kGlacierMaxPartSize ||
      (min_part_size & (min_part_size - 1)) != 0) {
    throw Error(Code::kInvalidArgument, "Glacier part size " + std::to_string(min_part_size) +
                                            " is not a power of two from 1 MiB to 4 GiB");
  }
  uint64_t part = min_part_size;
  while (part < kGlacierMaxPartSize && (size + part - 1) / part > kGlacierMaxParts) part *= 2;
  if ((size + part - 1) / part > kGlacierMaxParts) {
    throw Error(Code::kInvalidArgument, "an archive of " + std::to_string(size) +
                                            " bytes needs more than 10,000 Glacier parts of 4 GiB");
  }
  return part;
}

bool IsGlacierBackupDescription(std::string_view description) {
  auto j = nlohmann::json::parse(description, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return false;
  auto tool = j.find("tool");
  return tool != j.end() && tool->is_string() && tool->get<std::string>() == kTool;
}

UploadResult GlacierMultipartUpload(GlacierClient& client, Clock& clock, RewindableSource& body,
                                    const std::string& description,
                                    const GlacierMultipartOptions& options) {
  const uint64_t size = body.Size();
  const uint64_t part_size = GlacierPartSize(size, options.min_part_size);

  // Resume our own open upload; abort the ones the engine gave up on.
  std::string upload_id;
  std::map<uint64_t, StoredPart> stored;
  const int64_t now = clock.NowSeconds();
  const bool resumable = IsGlacierBackupDescription(description);
  for (const OpenUpload& u : ListOpenUploads(client)) {
    if (!IsGlacierBackupDescription(u.description)) continue;  // not ours
    bool same = u.description == description;
    if (same && resumable && u.part_size == part_size && upload_id.empty()) {
      if (auto parts = ListUploadedParts(client, u.id)) {
        upload_id = u.id;
        stored = std::move(*parts);
      }
    } else if (same || now - u.created >= options.stale_upload_seconds) {
      AbortUpload(client, u.id);
    }
  }
  if (upload_id.empty()) {
    upload_id =
        InitiateUpload(client, clock, description, part_size, resumable, options.part_retry);
  }
  try {
    return SendAndComplete(client, clock, body, upload_id, part_size, std::move(stored), options);
  } catch (...) {
    // An upload of ours stays open for the next attempt to resume; no later
    // attempt can recognise any other, so it ends here.
    if (!resumable) {
      AbortQuietly(clock, options.part_retry, [&] { AbortUpload(client, upload_id); });
    }
    throw;
  }
}

}  // namespace gb
