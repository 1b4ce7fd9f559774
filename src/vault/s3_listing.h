// Parsers for the XML pages of S3's ListObjectsV2 and ListMultipartUploads
// answers. The bodies come from the network: every field is untrusted, and a
// malformed page is kTransient (a retry may get a good one), never a crash.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gb {

struct S3ListedObject {
  std::string key;
  std::string etag;
  std::optional<uint64_t> size;     // nullopt when absent or not a decimal number
  std::optional<int64_t> modified;  // unix seconds; nullopt when absent or malformed
};

struct S3ObjectPage {
  std::vector<S3ListedObject> objects;
  bool truncated = false;
  std::string next_token;  // NextContinuationToken, when truncated
};

struct S3Upload {
  std::string key;
  std::string upload_id;
};

struct S3UploadPage {
  std::vector<S3Upload> uploads;
  bool truncated = false;
  std::string next_key_marker, next_upload_id_marker;
};

// `what` names the listing in errors ("bucket b", "s3://b/prefix").
S3ObjectPage ParseS3ObjectPage(std::string_view body, const std::string& what);
S3UploadPage ParseS3UploadPage(std::string_view body, const std::string& what);

}  // namespace gb
