#include "core/entry_extras.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/hex.h"
#include "core/untrusted_json.h"

namespace gb {

bool HasExtras(const Entry& e) {
  return e.rdev || !e.xattrs.empty() || !e.acl_access.empty() || !e.acl_default.empty() ||
         !e.fflags.empty() || e.content_unchanged || e.changed_while_read;
}

void PutExtras(const Entry& e, nlohmann::json& j) {
  if (e.rdev) j["rdev"] = e.rdev;
  if (!e.xattrs.empty()) {
    nlohmann::json x = nlohmann::json::object();
    for (const auto& [name, value] : e.xattrs) x[name] = Hex(AsBytes(value));
    j["xattrs"] = std::move(x);
  }
  if (!e.acl_access.empty()) j["acl_access"] = e.acl_access;
  if (!e.acl_default.empty()) j["acl_default"] = e.acl_default;
  if (!e.fflags.empty()) j["fflags"] = e.fflags;
  if (e.content_unchanged) j["content_unchanged"] = true;
  if (e.changed_while_read) j["changed_while_read"] = true;
}

void GetExtras(const nlohmann::json& j, Entry* e) {
  e->rdev = j.value("rdev", uint64_t{0});
  e->xattrs.clear();
  if (auto it = j.find("xattrs"); it != j.end()) {
    for (const auto& [name, hex] : it->items()) {
      auto v = Unhex(hex.get<std::string>());
      if (!v) throw Error(Code::kCorruption, "bad hex value of extended attribute " + name);
      e->xattrs.emplace_back(name, std::string(v->begin(), v->end()));
    }
  }
  e->acl_access = j.value("acl_access", "");
  e->acl_default = j.value("acl_default", "");
  e->fflags = j.value("fflags", "");
  e->content_unchanged = j.value("content_unchanged", false);
  e->changed_while_read = j.value("changed_while_read", false);
}

std::string ExtrasText(const Entry& e) {
  if (!HasExtras(e)) return "";
  nlohmann::json j = nlohmann::json::object();
  PutExtras(e, j);
  return j.dump();
}

void ExtrasFromText(const std::string& text, Entry* e) {
  if (text.empty()) {
    GetExtras(nlohmann::json::object(), e);
    return;
  }
  try {
    GetExtras(ParseUntrustedJson(text), e);
  } catch (const nlohmann::json::exception& ex) {
    throw Error(Code::kCorruption, std::string("bad entry metadata: ") + ex.what());
  }
}

bool SameExtendedMetadata(const Entry& a, const Entry& b) {
  return a.xattrs == b.xattrs && a.acl_access == b.acl_access && a.acl_default == b.acl_default &&
         a.fflags == b.fflags;
}

}  // namespace gb
