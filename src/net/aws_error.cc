#include "net/aws_error.h"

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>
#include <pugixml.hpp>

namespace gb {
namespace {

// "com.amazon.coral#ThrottlingException" and "ThrottlingException:http://..."
// both name ThrottlingException.
std::string BareCode(std::string_view code) {
  if (size_t hash = code.rfind('#'); hash != std::string_view::npos) code = code.substr(hash + 1);
  if (size_t colon = code.find(':'); colon != std::string_view::npos) code = code.substr(0, colon);
  return std::string(code);
}

std::string JsonString(const nlohmann::json& j, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = j.find(k);
    if (it != j.end() && it->is_string()) return it->get<std::string>();
  }
  return {};
}

void ParseJson(std::string_view body, AwsErrorInfo* out) {
  auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  out->code = BareCode(JsonString(j, {"code", "__type", "Code"}));
  out->message = JsonString(j, {"message", "Message", "errorMessage"});
}

void ParseXml(std::string_view body, AwsErrorInfo* out) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return;
  pugi::xml_node error = doc.find_node(
      [](pugi::xml_node n) { return std::string_view(n.name()) == "Error" && n.child("Code"); });
  if (!error) return;
  out->code = BareCode(error.child_value("Code"));
  out->message = error.child_value("Message");
  // S3 puts RequestId inside <Error>; the query protocol beside it.
  out->request_id = error.child_value("RequestId");
  if (out->request_id.empty()) {
    pugi::xml_node id =
        doc.find_node([](pugi::xml_node n) { return std::string_view(n.name()) == "RequestId"; });
    out->request_id = id.child_value();
  }
}

bool OneOf(std::string_view code, std::initializer_list<std::string_view> list) {
  return std::find(list.begin(), list.end(), code) != list.end();
}

bool IsTransientCode(std::string_view c) {
  return OneOf(c, {"RequestTimeout",
                   "RequestTimeoutException",
                   "PriorRequestNotComplete",
                   "Throttling",
                   "ThrottlingException",
                   "ThrottledException",
                   "RequestThrottledException",
                   "TooManyRequestsException",
                   "RequestThrottled",
                   "ProvisionedThroughputExceededException",
                   "TransactionInProgressException",
                   "RequestLimitExceeded",
                   "BandwidthLimitExceeded",
                   "SlowDown",
                   "EC2ThrottledException",
                   "InternalError",
                   "InternalFailure",
                   "InternalServerError",
                   "ServiceUnavailable",
                   "ServiceUnavailableException",
                   "OperationAborted",
                   "IncompleteBody"});
}

bool IsVaultMissing(const AwsErrorInfo& e) {
  return e.code == "VaultNotFound" ||
         (e.code == "ResourceNotFoundException" &&
          AsciiLower(e.message).find("vault not found") != std::string::npos);
}

bool IsObjectMissingCode(std::string_view c) {
  return OneOf(c, {"NoSuchKey", "NoSuchUpload", "NoSuchVersion", "ResourceNotFoundException"});
}

struct Advice {
  std::string_view code;
  std::string_view text;  // "{r}" stands for the resource
};

constexpr Advice kAdvice[] = {
    {"SignatureDoesNotMatch",
     "check AWS_SECRET_ACCESS_KEY / the profile's secret and the machine clock"},
    {"InvalidSignatureException",
     "check AWS_SECRET_ACCESS_KEY / the profile's secret and the machine clock"},
    {"AccessDenied", "check the IAM policy of the credentials for {r}"},
    {"AccessDeniedException", "check the IAM policy of the credentials for {r}"},
    {"InvalidAccessKeyId",
     "AWS does not know this access key; check AWS_ACCESS_KEY_ID / the profile's key"},
    {"InvalidClientTokenId",
     "AWS does not know this access key; check AWS_ACCESS_KEY_ID / the profile's key"},
    {"UnrecognizedClientException",
     "AWS does not know this access key; check AWS_ACCESS_KEY_ID / the profile's key"},
    {"ExpiredToken",
     "the session token has expired; refresh the temporary credentials (AWS_SESSION_TOKEN)"},
    {"ExpiredTokenException",
     "the session token has expired; refresh the temporary credentials (AWS_SESSION_TOKEN)"},
    {"TokenRefreshRequired",
     "the session token has expired; refresh the temporary credentials (AWS_SESSION_TOKEN)"},
    {"InvalidToken",
     "the session token is not valid; check AWS_SESSION_TOKEN / the profile's session token"},
    {"MissingAuthenticationTokenException",
     "the request carried no valid signature; check the credentials and the endpoint"},
    {"RequestTimeTooSkewed",
     "the machine clock is more than 15 minutes off; fix the clock (NTP) and retry"},
    {"NoLongerSupportedException",
     "this account cannot use Glacier vaults; use an s3:// vault with storage_class = "
     "\"DEEP_ARCHIVE\""},
    {"VaultNotFound", "{r} does not exist; check the vault name and the region"},
    {"ResourceNotFoundException", "{r} does not exist; check the vault name and the region"},
    {"NoSuchBucket", "{r} does not exist; check the bucket name and the region"},
    {"AuthorizationHeaderMalformed",
     "the region is wrong for {r}; set the region the bucket was created in"},
    {"PermanentRedirect", "{r} is in another region; set the region the bucket was created in"},
    {"InvalidObjectState",
     "the object is in a Glacier storage class and not restored; restore it first ({r})"},
    {"PolicyEnforcedException",
     "the vault's data retrieval policy refuses this retrieval; change the policy or retrieve "
     "less at a time"},
    {"LimitExceededException",
     "an AWS limit was reached for {r} (vaults per account or jobs in progress); wait for jobs "
     "to finish or ask AWS for a higher limit"},
    {"InsufficientCapacityException",
     "no Expedited retrieval capacity is free now; use the Standard or Bulk tier"},
    {"NotSignedUp", "the AWS account is not signed up for this service"},
    {"AccountProblem", "AWS reports a problem with the account; see the AWS console"},
};

std::string OneLine(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  }
  return out;
}

}  // namespace

AwsErrorInfo ParseAwsError(int http_status, std::string_view body, std::string_view content_type) {
  AwsErrorInfo out;
  out.http_status = http_status;
  std::string type = AsciiLower(content_type);
  size_t first = body.find_first_not_of(" \t\r\n");
  char lead = first == std::string_view::npos ? '\0' : body[first];
  if (type.find("json") != std::string::npos ||
      (type.find("xml") == std::string::npos && lead == '{'))
    ParseJson(body, &out);
  else if (type.find("xml") != std::string::npos || lead == '<')
    ParseXml(body, &out);
  return out;
}

AwsErrorInfo ParseAwsError(const HttpResponse& response) {
  AwsErrorInfo out = ParseAwsError(response.status, response.body,
                                   response.headers.Get("Content-Type").value_or(""));
  if (out.code.empty()) out.code = BareCode(response.headers.Get("x-amzn-ErrorType").value_or(""));
  if (out.request_id.empty()) {
    out.request_id = response.headers.Get("x-amzn-RequestId")
                         .value_or(response.headers.Get("x-amz-request-id").value_or(""));
  }
  return out;
}

Code ClassifyAwsError(const AwsErrorInfo& e) {
  if (e.http_status == 0) return Code::kTransient;
  if (IsTransientCode(e.code)) return Code::kTransient;
  if (IsVaultMissing(e)) return Code::kPermanent;
  if (IsObjectMissingCode(e.code)) return Code::kNotFound;
  bool known = std::any_of(std::begin(kAdvice), std::end(kAdvice),
                           [&](const Advice& a) { return a.code == e.code; });
  if (known) return Code::kPermanent;
  int s = e.http_status;
  if (s == 408 || s == 429 || s == 500 || s == 502 || s == 503 || s == 504) return Code::kTransient;
  if (s == 404) return Code::kNotFound;
  return Code::kPermanent;
}

std::string DescribeAwsError(const AwsErrorInfo& e, std::string_view resource) {
  std::string code = e.code.empty() ? "HTTP " + std::to_string(e.http_status) : e.code;
  bool use_advice = ClassifyAwsError(e) == Code::kPermanent;
  for (const Advice& a : kAdvice) {
    if (!use_advice || a.code != e.code) continue;
    std::string text(a.text);
    if (size_t r = text.find("{r}"); r != std::string::npos) text.replace(r, 3, resource);
    return code + ": " + text;
  }
  std::string line = code;
  if (!e.message.empty()) line += ": " + OneLine(e.message, 300);
  line += " (";
  if (!e.code.empty()) line += "HTTP " + std::to_string(e.http_status) + ", ";
  line += std::string(resource) + ")";
  return line;
}

AwsError::AwsError(AwsErrorInfo info, std::string_view resource)
    : Error(ClassifyAwsError(info), DescribeAwsError(info, resource)), info_(std::move(info)) {}

void ThrowAwsError(const HttpResponse& response, std::string_view resource) {
  throw AwsError(ParseAwsError(response), resource);
}

}  // namespace gb
