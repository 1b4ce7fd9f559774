// S3 multipart uploads (for s3_vault.h).
//
// One upload: parts of part_size bytes, raised (to whole MiB) for huge bodies
// so no upload needs more than 10,000 parts. Parts are read and sent one at a
// time (one part in memory); each part is retried on its own per part_retry (a
// part may be re-sent). The bytes sent are tree-hashed again on the way and
// must match the tree hash the caller put in the metadata, so a source that
// changed between the two passes fails the upload.
//
// Nothing of a failed upload stays billed: it is aborted (retried with twice
// part_retry's attempts); when the answer to CreateMultipartUpload was lost,
// every open upload of the key is. Stale unfinished uploads of the same key (a
// crashed earlier attempt) are aborted before a new one starts: nobody else
// writes the key.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/stream.h"
#include "net/retry.h"
#include "vault/s3_client.h"
#include "vault/s3_listing.h"

namespace gb {

inline constexpr uint64_t kS3MaxParts = 10000;

struct S3MultipartOptions {
  // S3 requires >= 5 MiB (except the last part); raised as described above.
  uint64_t part_size = 16ull << 20;
  RetryOptions part_retry = {.max_attempts = 4};
};

// Uploads the whole of `body` (rewound first) to `key` with the object
// metadata `meta`. `tree_hash`: the hex tree hash of the body, already in
// `meta`. REQUIRES: body.Size() > 0.
void S3MultipartUpload(S3Client& client, Clock& clock, RewindableSource& body,
                       const std::string& key, const HeaderList& meta, const std::string& tree_hash,
                       const S3MultipartOptions& options);

// The unfinished multipart uploads of keys starting with `key_prefix`, every
// page of ListMultipartUploads.
std::vector<S3Upload> ListS3Uploads(S3Client& client, const std::string& key_prefix);

// Aborts one upload; an upload already gone is fine.
void AbortS3Upload(S3Client& client, const std::string& key, const std::string& upload_id);

}  // namespace gb
