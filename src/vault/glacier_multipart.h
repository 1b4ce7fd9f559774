// Glacier multipart uploads that resume (for glacier_vault.h).
//
// One upload: the part size is min_part_size x 2^n, the smallest that keeps
// the archive within 10,000 parts. Before initiating, ListMultipartUploads
// looks for an open upload of ours (a description that is glacier-backup's
// JSON, carrying the engine's unique token) with this very description and
// part size: if there is one, ListParts (paged) tells which parts it holds,
// and only parts that are missing or whose tree hash differs from the local
// one are sent. Other open uploads of ours with the same description, and
// those with another description older than stale_upload_seconds, are
// aborted (the engine gave up on them; Glacier would keep them for a day).
//
// The calling thread reads the source part by part into memory; `threads`
// workers, each on its own connection, hash and send them, so at most
// threads + 2 parts are held at once (fewer workers when parts are so large
// that this would pass 256 MiB; never fewer than one). A part whose request fails
// transiently is re-sent (re-sending a part overwrites it) per part_retry.
// The archive's tree hash is combined from the part tree hashes and checked
// by Glacier on CompleteMultipartUpload.
//
// On failure an upload of ours is left open for the next attempt to resume.
// Any other upload (a description that is not glacier-backup's) could never
// be recognised again, so it is aborted (retried with twice part_retry's
// attempts) - including one Glacier started while the answer to
// InitiateMultipartUpload was lost, found by its description and part size
// among the uploads created since. Errors thrown by the source
// propagate unchanged, after the parts already read have been sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/stream.h"
#include "net/retry.h"
#include "vault/glacier_client.h"
#include "vault/vault.h"

namespace gb {

inline constexpr uint64_t kGlacierMinPartSize = 1ull << 20;
inline constexpr uint64_t kGlacierMaxPartSize = 4ull << 30;
inline constexpr uint64_t kGlacierMaxParts = 10000;

struct GlacierMultipartOptions {
  uint64_t min_part_size = 8ull << 20;  // a power of two times 1 MiB
  int threads = 4;
  int64_t stale_upload_seconds = 24 * 3600;
  RetryOptions part_retry = {.max_attempts = 4};
};

// The part size for an archive of `size` bytes: min_part_size x 2^n, the
// smallest within kGlacierMaxParts parts. kInvalidArgument when even 4 GiB
// parts cannot hold it or min_part_size is not a power of two times 1 MiB.
uint64_t GlacierPartSize(uint64_t size, uint64_t min_part_size);

// True when `description` is one glacier-backup wrote: a JSON object with
// "tool": "glacier-backup".
bool IsGlacierBackupDescription(std::string_view description);

// Uploads the whole of `body` (rewound first) as one archive. REQUIRES: the
// description is valid and body.Size() > 0.
UploadResult GlacierMultipartUpload(GlacierClient& client, Clock& clock, RewindableSource& body,
                                    const std::string& description,
                                    const GlacierMultipartOptions& options);

}  // namespace gb
