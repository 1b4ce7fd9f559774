#include "vault/s3_listing.h"

#include <pugixml.hpp>

#include "core/decimal.h"
#include "core/error.h"
#include "vault/s3_client.h"

namespace gb {
namespace {

pugi::xml_node Root(pugi::xml_document& doc, std::string_view body, const char* element,
                    const std::string& what) {
  if (!doc.load_buffer(body.data(), body.size())) {
    throw Error(Code::kTransient, "unreadable XML in S3's answer about " + what);
  }
  pugi::xml_node root = doc.child(element);
  if (!root) throw Error(Code::kTransient, "S3 answered a listing of " + what + " oddly");
  return root;
}

bool Truncated(const pugi::xml_node& root) {
  return std::string_view(root.child_value("IsTruncated")) == "true";
}

}  // namespace

S3ObjectPage ParseS3ObjectPage(std::string_view body, const std::string& what) {
  pugi::xml_document doc;
  pugi::xml_node root = Root(doc, body, "ListBucketResult", what);
  S3ObjectPage page;
  for (pugi::xml_node c : root.children("Contents")) {
    S3ListedObject o;
    o.key = c.child_value("Key");
    o.etag = c.child_value("ETag");
    o.size = ParseDecimalU64(c.child_value("Size"));
    o.modified = ParseS3XmlDate(c.child_value("LastModified"));
    page.objects.push_back(std::move(o));
  }
  page.truncated = Truncated(root);
  if (page.truncated) {
    page.next_token = root.child_value("NextContinuationToken");
    if (page.next_token.empty()) {
      throw Error(Code::kTransient,
                  "S3 cut a listing of " + what + " short without a continuation token");
    }
  }
  return page;
}

S3UploadPage ParseS3UploadPage(std::string_view body, const std::string& what) {
  pugi::xml_document doc;
  pugi::xml_node root = Root(doc, body, "ListMultipartUploadsResult", what);
  S3UploadPage page;
  for (pugi::xml_node u : root.children("Upload")) {
    page.uploads.push_back({u.child_value("Key"), u.child_value("UploadId")});
  }
  page.truncated = Truncated(root);
  page.next_key_marker = root.child_value("NextKeyMarker");
  page.next_upload_id_marker = root.child_value("NextUploadIdMarker");
  return page;
}

}  // namespace gb
