#include "vault/s3_multipart.h"

#include <algorithm>
#include <exception>
#include <pugixml.hpp>

#include "core/hex.h"
#include "core/sha256.h"
#include "core/tree_hash.h"
#include "vault/vault.h"

namespace gb {
namespace {

constexpr uint64_t kMiB = 1024 * 1024;

pugi::xml_document ParseXml(const std::string& body, const std::string& what) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) {
    throw Error(Code::kTransient, "unreadable XML in S3's answer about " + what);
  }
  return doc;
}

}  // namespace

std::vector<S3Upload> ListS3Uploads(S3Client& client, const std::string& key_prefix) {
  std::vector<S3Upload> out;
  std::string key_marker, id_marker;
  for (;;) {
    S3Request req;
    req.query = {{"uploads", ""}, {"prefix", key_prefix}};
    if (!key_marker.empty()) req.query.emplace("key-marker", key_marker);
    if (!id_marker.empty()) req.query.emplace("upload-id-marker", id_marker);
    HttpResponse resp = client.Send(req);
    if (!Ok(resp)) client.Fail(resp, "bucket " + client.bucket());
    S3UploadPage page = ParseS3UploadPage(resp.body, "bucket " + client.bucket());
    for (S3Upload& u : page.uploads) out.push_back(std::move(u));
    if (!page.truncated) return out;
    key_marker = page.next_key_marker;
    id_marker = page.next_upload_id_marker;
    if (key_marker.empty() && id_marker.empty()) return out;
  }
}

void AbortS3Upload(S3Client& client, const std::string& key, const std::string& upload_id) {
  HttpResponse resp =
      client.Send(S3Request{.method = "DELETE", .key = key, .query = {{"uploadId", upload_id}}});
  if (!Ok(resp) && resp.status != 404) client.Fail(resp, "s3://" + client.bucket() + "/" + key);
}

void S3MultipartUpload(S3Client& client, Clock& clock, RewindableSource& body,
                       const std::string& key, const HeaderList& meta, const std::string& tree_hash,
                       const S3MultipartOptions& options) {
  const std::string what = "s3://" + client.bucket() + "/" + key;
  const uint64_t size = body.Size();
  // A crashed or killed earlier attempt at this archive left its upload open
  // (and billed): nobody else writes this key, so end it.
  for (const S3Upload& u : ListS3Uploads(client, key)) {
    if (u.key == key) AbortS3Upload(client, u.key, u.upload_id);
  }
  std::string upload_id;
  try {
    HttpResponse created = client.Send(
        S3Request{.method = "POST", .key = key, .query = {{"uploads", ""}}, .headers = meta});
    if (!Ok(created)) client.Fail(created, what);
    upload_id =
        ParseXml(created.body, what).child("InitiateMultipartUploadResult").child_value("UploadId");
    if (upload_id.empty())
      throw Error(Code::kTransient, "S3 started an upload of " + what + " without an id");

    uint64_t part_size = std::max<uint64_t>(options.part_size, 1);
    if (uint64_t least = (size + kS3MaxParts - 1) / kS3MaxParts; part_size < least) {
      part_size = (least + kMiB - 1) / kMiB * kMiB;
    }
    RetryPolicy retry(clock, options.part_retry);
    TreeHasher hasher;
    Bytes buf;
    std::string complete =
        std::string("<CompleteMultipartUpload xmlns=\"") + kS3XmlNamespace + "\">";
    body.Rewind();
    for (uint64_t offset = 0, number = 1; offset < size; ++number) {
      buf.resize(std::min(part_size, size - offset));
      ReadUploadBytes(body, buf, offset, size);
      hasher.Update(buf);
      const std::string sha = Hex(Sha256::Of(buf));
      std::string etag = retry.Run([&] {
        SpanSource src(buf);
        S3Request req{.method = "PUT",
                      .key = key,
                      .query = {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}},
                      .body = &src,
                      .payload_hash = sha};
        HttpResponse resp = client.Send(req);
        if (!Ok(resp)) client.Fail(resp, what);
        auto e = resp.headers.Get("ETag");
        if (!e || e->empty()) {
          throw Error(Code::kTransient, "S3 accepted part " + std::to_string(number) + " of " +
                                            what + " without an ETag");
        }
        return *e;
      });
      complete += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + etag +
                  "</ETag></Part>";
      offset += buf.size();
    }
    if (Hex(hasher.Final()) != tree_hash) {
      throw Error(Code::kIOError, "the upload source changed while " + what + " was uploaded");
    }
    complete += "</CompleteMultipartUpload>";
    SpanSource src(AsBytes(complete));
    HttpResponse resp = client.Send(S3Request{.method = "POST",
                                              .key = key,
                                              .query = {{"uploadId", upload_id}},
                                              .body = &src,
                                              .payload_hash = Hex(Sha256::Of(complete))});
    if (!Ok(resp)) client.Fail(resp, what);
    // CompleteMultipartUpload may fail after its 200 status: the body says so.
    AwsErrorInfo info = ParseAwsError(resp.status, resp.body, "application/xml");
    if (!info.code.empty()) {
      throw S3Error(ClassifyAwsError(info), DescribeAwsError(info, what), info);
    }
  } catch (...) {
    // Nothing of a failed upload stays billed: abort it, with twice the
    // attempts of a part (no later attempt may follow). When the answer to
    // CreateMultipartUpload was lost its id is unknown, but every open upload
    // of this key is ours.
    RetryOptions cleanup = options.part_retry;
    cleanup.max_attempts *= 2;
    try {
      RetryPolicy(clock, cleanup).Run([&] {
        if (!upload_id.empty()) {
          AbortS3Upload(client, key, upload_id);
          return;
        }
        for (const S3Upload& u : ListS3Uploads(client, key)) {
          if (u.key == key) AbortS3Upload(client, u.key, u.upload_id);
        }
      });
    } catch (const std::exception&) {
      // The original failure matters more; a later upload of this key aborts it.
    }
    throw;
  }
}

}  // namespace gb
