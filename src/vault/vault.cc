#include "vault/vault.h"

#include <strings.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/decimal.h"

namespace gb {

const char* TierName(Tier tier) {
  switch (tier) {
    case Tier::kExpedited:
      return "Expedited";
    case Tier::kStandard:
      return "Standard";
    case Tier::kBulk:
      return "Bulk";
  }
  return "?";
}

std::optional<Tier> ParseTier(std::string_view name) {
  for (Tier t : {Tier::kExpedited, Tier::kStandard, Tier::kBulk}) {
    std::string_view n = TierName(t);
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) return t;
  }
  return std::nullopt;
}

const char* JobKindName(JobKind kind) {
  return kind == JobKind::kInventory ? "InventoryRetrieval" : "ArchiveRetrieval";
}

const char* JobStatusName(JobStatus status) {
  switch (status) {
    case JobStatus::kInProgress:
      return "InProgress";
    case JobStatus::kSucceeded:
      return "Succeeded";
    case JobStatus::kFailed:
      return "Failed";
  }
  return "?";
}

std::optional<JobKind> ParseJobKind(std::string_view name) {
  for (JobKind k : {JobKind::kInventory, JobKind::kRetrieval}) {
    if (name == JobKindName(k)) return k;
  }
  return std::nullopt;
}

std::optional<JobStatus> ParseJobStatus(std::string_view name) {
  for (JobStatus s : {JobStatus::kInProgress, JobStatus::kSucceeded, JobStatus::kFailed}) {
    if (name == JobStatusName(s)) return s;
  }
  return std::nullopt;
}

ResolvedRange ResolveRange(const std::optional<ByteRange>& range, uint64_t size) {
  if (!range) return {0, size};
  if (range->offset > size) {
    throw Error(Code::kInvalidArgument, "byte range " + FormatRange(range) +
                                            " starts past the end (" + std::to_string(size) +
                                            " bytes)");
  }
  if (range->length == ByteRange::kToEnd) return {range->offset, size - range->offset};
  if (range->length == 0 || range->length > size - range->offset) {
    throw Error(Code::kInvalidArgument, "byte range " + FormatRange(range) +
                                            " is empty or ends past the end (" +
                                            std::to_string(size) + " bytes)");
  }
  return {range->offset, range->length};
}

std::string FormatRange(const std::optional<ByteRange>& range) {
  if (!range) return "all";
  std::string s = std::to_string(range->offset);
  if (range->length == ByteRange::kToEnd) return s + "-";
  return s + "+" + std::to_string(range->length);
}

std::optional<std::optional<ByteRange>> ParseRange(std::string_view s) {
  if (s == "all") return std::optional<ByteRange>();
  if (s.ends_with('-')) {
    auto offset = ParseDecimalU64(s.substr(0, s.size() - 1));
    if (!offset) return std::nullopt;
    return std::optional<ByteRange>(ByteRange{*offset, ByteRange::kToEnd});
  }
  size_t plus = s.find('+');
  if (plus == std::string_view::npos) return std::nullopt;
  auto offset = ParseDecimalU64(s.substr(0, plus));
  auto length = ParseDecimalU64(s.substr(plus + 1));
  if (!offset || !length) return std::nullopt;
  return std::optional<ByteRange>(ByteRange{*offset, *length});
}

void ReadUploadBytes(RewindableSource& body, std::span<uint8_t> buf, uint64_t offset,
                     uint64_t size) {
  size_t n = body.ReadFull(buf);
  if (n != buf.size()) {
    throw Error(Code::kIOError, "the upload source ended after " + std::to_string(offset + n) +
                                    " of the " + std::to_string(size) + " bytes it announced");
  }
}

void ValidateDescription(std::string_view description) {
  if (description.size() > kMaxDescriptionLength) {
    throw Error(Code::kInvalidArgument, "archive description is " +
                                            std::to_string(description.size()) +
                                            " characters long; the limit is 1024");
  }
  for (size_t i = 0; i < description.size(); ++i) {
    auto c = static_cast<unsigned char>(description[i]);
    if (c < 0x20 || c > 0x7e) {
      char buf[96];
      std::snprintf(buf, sizeof buf,
                    "archive description has byte 0x%02x at position %zu; only printable "
                    "ASCII (0x20-0x7E) is allowed",
                    c, i);
      throw Error(Code::kInvalidArgument, buf);
    }
  }
}

namespace {

// Bounds on what an inventory may claim: an archive larger than any backend
// stores (Glacier: 40 TiB, S3: 5 TiB), or a date before 1970 or after 9999,
// is damage or a lie, refused where it enters.
constexpr uint64_t kMaxListedArchiveSize = uint64_t{1} << 46;  // 64 TiB
constexpr int64_t kLatestInventoryTime = 253402300799;         // 9999-12-31T23:59:59Z

[[noreturn]] void BadInventory(const std::string& what) {
  throw Error(Code::kCorruption, "malformed vault inventory: " + what);
}

// "2012-05-15T17:19:46.700Z" -> seconds; fractional seconds are dropped.
int64_t ParseInventoryTime(const nlohmann::json& v, const char* field) {
  if (!v.is_string()) BadInventory(std::string(field) + " is not a string");
  std::string text = v.get<std::string>();
  if (auto dot = text.find('.'); dot != std::string::npos) {
    size_t end = dot + 1;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    text.erase(dot, end - dot);
  }
  auto t = ParseUtc(text);
  if (!t) BadInventory(std::string(field) + " \"" + v.get<std::string>() + "\" is not a date");
  if (*t < 0 || *t > kLatestInventoryTime)
    BadInventory(std::string(field) + " \"" + v.get<std::string>() + "\" is out of range");
  return *t;
}

const nlohmann::json& Field(const nlohmann::json& obj, const char* name) {
  auto it = obj.find(name);
  if (it == obj.end()) BadInventory(std::string("missing ") + name);
  return *it;
}

}  // namespace

Inventory ParseInventory(std::string_view json) {
  nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) BadInventory("not a JSON object");
  Inventory inv;
  inv.date = ParseInventoryTime(Field(doc, "InventoryDate"), "InventoryDate");
  const auto& list = Field(doc, "ArchiveList");
  if (!list.is_array()) BadInventory("ArchiveList is not an array");
  inv.archives.reserve(list.size());
  for (const auto& a : list) {
    if (!a.is_object()) BadInventory("ArchiveList entry is not an object");
    ArchiveInfo info;
    const auto& id = Field(a, "ArchiveId");
    if (!id.is_string() || id.get<std::string>().empty()) BadInventory("bad ArchiveId");
    info.id = id.get<std::string>();
    if (auto d = a.find("ArchiveDescription"); d != a.end() && !d->is_null()) {
      if (!d->is_string()) BadInventory("ArchiveDescription of " + info.id + " is not a string");
      info.description = d->get<std::string>();
    }
    info.created = ParseInventoryTime(Field(a, "CreationDate"), "CreationDate");
    const auto& size = Field(a, "Size");
    if (!size.is_number_unsigned()) BadInventory("Size of " + info.id + " is not a byte count");
    info.size = size.get<uint64_t>();
    if (info.size > kMaxListedArchiveSize)
      BadInventory("Size of " + info.id + " is " + std::to_string(info.size) +
                   " bytes, more than any vault stores");
    const auto& hash = Field(a, "SHA256TreeHash");
    if (!hash.is_string()) BadInventory("SHA256TreeHash of " + info.id + " is not a string");
    info.tree_hash = hash.get<std::string>();
    inv.archives.push_back(std::move(info));
  }
  return inv;
}

std::string FormatInventory(const Inventory& inventory, const std::string& vault_arn) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& a : inventory.archives) {
    list.push_back({{"ArchiveId", a.id},
                    {"ArchiveDescription", a.description},
                    {"CreationDate", FormatIsoUtc(a.created)},
                    {"Size", a.size},
                    {"SHA256TreeHash", a.tree_hash}});
  }
  nlohmann::json doc = {{"VaultARN", vault_arn},
                        {"InventoryDate", FormatIsoUtc(inventory.date)},
                        {"ArchiveList", std::move(list)}};
  return doc.dump();
}

}  // namespace gb
