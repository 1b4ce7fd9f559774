// AWS error responses: parsing them, deciding whether a retry can help, and
// the one line a user reads when it cannot.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "net/http_client.h"

namespace gb {

struct AwsErrorInfo {
  int http_status = 0;  // 0 when the request never got a response
  std::string code;     // "ThrottlingException", "NoSuchKey"; empty when the body had none
  std::string message;  // AWS's own words; may be empty
  std::string request_id;
};

// Extracts code and message from an error body: Glacier JSON
// {"code","message","type"}, JSON {"__type": "[ns#]Code", "message"} (moto,
// other JSON services), S3 XML <Error><Code/><Message/></Error> and the
// query-style XML <ErrorResponse><Error>... (moto's Glacier
// SignatureDoesNotMatch). The body's format is taken from the content type,
// else sniffed. An unparseable or empty body leaves code and message empty.
AwsErrorInfo ParseAwsError(int http_status, std::string_view body, std::string_view content_type);
// Same, from a response; also reads x-amzn-ErrorType and the request id headers.
AwsErrorInfo ParseAwsError(const HttpResponse& response);

// The retry class of a failed outcome:
//   kTransient  worth retrying: no response at all (http_status 0), 408, 429,
//               500, 502, 503, 504, and throttling / timeout / internal codes
//               whatever their status;
//   kNotFound   a named object, job or upload does not exist (NoSuchKey,
//               NoSuchUpload, ResourceNotFoundException other than a vault,
//               a bare 404); final;
//   kPermanent  everything else, including a missing vault or bucket; final.
// A known code decides over the status.
Code ClassifyAwsError(const AwsErrorInfo& error);

// One line for the user. For known permanent codes it says what to check,
// e.g. "AccessDenied: check the IAM policy of the credentials for vault X";
// otherwise "<code>: <AWS message> (HTTP <status>, <resource>)". `resource`
// names what was being worked on ("vault photos", "bucket b"). Never holds
// secrets (AWS messages do not carry them).
std::string DescribeAwsError(const AwsErrorInfo& error, std::string_view resource);

// The exception for an AWS error response: code() is ClassifyAwsError's,
// what() is DescribeAwsError's.
class AwsError : public Error {
 public:
  AwsError(AwsErrorInfo info, std::string_view resource);
  const AwsErrorInfo& info() const { return info_; }

 private:
  AwsErrorInfo info_;
};

// Throws AwsError for `response` (REQUIRES: a non-2xx status).
[[noreturn]] void ThrowAwsError(const HttpResponse& response, std::string_view resource);

}  // namespace gb
