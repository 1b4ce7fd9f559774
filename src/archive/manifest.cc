#include "archive/manifest.h"

#include <nlohmann/json.hpp>

#include "core/entry_extras.h"
#include "core/error.h"
#include "core/hex.h"
#include "core/untrusted_json.h"

namespace gb {
namespace {

using nlohmann::json;

bool IsUtf8(const std::string& s) {
  bool ascii = true;
  for (char c : s) ascii &= static_cast<unsigned char>(c) < 0x80;
  if (ascii) return true;
  try {
    (void)json(s).dump();  // nlohmann's strict UTF-8 check
    return true;
  } catch (const json::exception&) {
    return false;
  }
}

// Names that are not UTF-8 are kept byte-exact as hex.
void PutName(json& j, const char* key, const std::string& v) {
  if (IsUtf8(v))
    j[key] = v;
  else
    j[std::string(key) + "_hex"] = Hex(AsBytes(v));
}

std::string GetName(const json& j, const char* key) {
  if (auto it = j.find(key); it != j.end()) return it->get<std::string>();
  if (auto it = j.find(std::string(key) + "_hex"); it != j.end()) {
    auto b = Unhex(it->get<std::string>());
    if (!b) throw Error(Code::kCorruption, "manifest: bad hex name");
    return std::string(b->begin(), b->end());
  }
  return "";
}

json MetaJson(const BackupMeta& m) {
  return json{{"id", m.id},
              {"name", m.name},
              {"set", m.set_id},
              {"seq", m.seq},
              {"kind", m.seq == 0 ? "full" : "incremental"},
              {"parent", m.parent},
              {"time", m.time},
              {"host", m.host},
              {"tool", m.tool}};
}

// Walks "head\n line\n line\n tail" documents: calls `line` for each entry line.
template <typename F>
void ForEachLine(const std::string& text, F line) {
  size_t pos = text.find('\n');
  if (pos == std::string::npos) return;
  ++pos;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string_view l(text.data() + pos, end - pos);
    pos = end + 1;
    if (l.empty() || l[0] == ']') break;
    if (l[0] == ',') l.remove_prefix(1);
    line(l);
  }
}

// The lines below are the most written JSON of a backup (one or two per
// file), so the common ones are spelled here instead of built as json
// objects. They are the bytes dump() gives for the same object: keys in
// byte order, strings escaped as dump() escapes them. Names that are not
// UTF-8, and entries with extras, take the json route.

// Appends `s` (valid UTF-8) as a JSON string, escaped as dump() escapes it.
void AppendString(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 15];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// Appends ,"key":value (no comma before the first key of an object).
class LineWriter {
 public:
  explicit LineWriter(bool first) { out_ = first ? "{" : ",{"; }
  void Number(const char* key, int64_t v) { Key(key) += std::to_string(v); }
  void Unsigned(const char* key, uint64_t v) { Key(key) += std::to_string(v); }
  void True(const char* key) { Key(key) += "true"; }
  void String(const char* key, std::string_view v) { AppendString(Key(key), v); }
  std::string Finish() { return std::move(out_ += "}\n"); }

 private:
  std::string& Key(const char* key) {
    if (out_.back() != '{') out_ += ',';
    out_ += '"';
    out_ += key;
    return out_ += "\":";
  }
  std::string out_;
};

}  // namespace

std::string ManifestHead(const BackupMeta& meta) {
  return "{\"format\":\"" + std::string(kManifestFormat) +
         "\",\"backup\":" + MetaJson(meta).dump() + ",\"entries\":[\n";
}

nlohmann::json EntryToJson(const Entry& e) {
  json j;
  PutName(j, "path", e.path);
  j["type"] = EntryTypeName(e.type);
  if (e.type != EntryType::kDeleted) {
    j["mode"] = e.mode;
    j["uid"] = e.uid;
    j["gid"] = e.gid;
    if (!e.uname.empty()) PutName(j, "user", e.uname);
    if (!e.gname.empty()) PutName(j, "group", e.gname);
    j["mtime"] = e.mtime.sec;
    if (e.mtime.nsec) j["mtime_nsec"] = e.mtime.nsec;
    j["ctime"] = e.ctime.sec;
    if (e.ctime.nsec) j["ctime_nsec"] = e.ctime.nsec;
    j["ino"] = e.ino;
    j["dev"] = e.dev;
    j["nlink"] = e.nlink;
    if (e.type == EntryType::kFile) j["size"] = e.size;
    if (e.sparse) j["sparse"] = true;
    if (!e.target.empty()) PutName(j, "target", e.target);
    if (e.has_hash) j["sha256"] = Hex(e.hash);
    PutExtras(e, j);
  }
  return j;
}

std::string ManifestEntryLine(const Entry& e, bool first) {
  bool plain =
      !HasExtras(e) && IsUtf8(e.path) && IsUtf8(e.uname) && IsUtf8(e.gname) && IsUtf8(e.target);
  if (!plain) return (first ? "" : ",") + EntryToJson(e).dump() + "\n";
  // The keys of EntryToJson, in byte order.
  LineWriter w(first);
  if (e.type != EntryType::kDeleted) {
    w.Number("ctime", e.ctime.sec);
    if (e.ctime.nsec) w.Unsigned("ctime_nsec", e.ctime.nsec);
    w.Unsigned("dev", e.dev);
    w.Unsigned("gid", e.gid);
    if (!e.gname.empty()) w.String("group", e.gname);
    w.Unsigned("ino", e.ino);
    w.Unsigned("mode", e.mode);
    w.Number("mtime", e.mtime.sec);
    if (e.mtime.nsec) w.Unsigned("mtime_nsec", e.mtime.nsec);
    w.Unsigned("nlink", e.nlink);
  }
  w.String("path", e.path);
  if (e.type != EntryType::kDeleted) {
    if (e.has_hash) w.String("sha256", Hex(e.hash));
    if (e.type == EntryType::kFile) w.Unsigned("size", e.size);
    if (e.sparse) w.True("sparse");
    if (!e.target.empty()) w.String("target", e.target);
  }
  w.String("type", EntryTypeName(e.type));
  if (e.type != EntryType::kDeleted) {
    w.Unsigned("uid", e.uid);
    if (!e.uname.empty()) w.String("user", e.uname);
  }
  return w.Finish();
}

Entry EntryFromJson(const nlohmann::json& j) {
  Entry e;
  e.path = GetName(j, "path");
  if (!ParseEntryType(j.at("type"), &e.type))
    throw Error(Code::kCorruption, "manifest: unknown entry type");
  if (e.type != EntryType::kDeleted) {
    e.mode = j.at("mode");
    e.uid = j.at("uid");
    e.gid = j.at("gid");
    e.uname = GetName(j, "user");
    e.gname = GetName(j, "group");
    e.mtime = {j.at("mtime").get<int64_t>(), j.value("mtime_nsec", 0u)};
    e.ctime = {j.value("ctime", int64_t{0}), j.value("ctime_nsec", 0u)};
    e.ino = j.value("ino", uint64_t{0});
    e.dev = j.value("dev", uint64_t{0});
    e.nlink = j.value("nlink", 1u);
    e.size = j.value("size", uint64_t{0});
    e.sparse = j.value("sparse", false);
    e.target = GetName(j, "target");
    if (auto it = j.find("sha256"); it != j.end()) {
      auto h = Unhex(it->get<std::string>());
      if (!h || h->size() != 32) throw Error(Code::kCorruption, "manifest: bad sha256");
      std::copy(h->begin(), h->end(), e.hash.begin());
      e.has_hash = true;
    }
    GetExtras(j, &e);
  }
  if (!IsSafeRelativePath(e.path))
    throw Error(Code::kCorruption, "manifest: unsafe path " + e.path);
  return e;
}

std::string ManifestTail() { return "]}\n"; }

std::string ChecksumsHead() {
  return "{\"format\":\"" + std::string(kManifestFormat) + "\",\"files\":[\n";
}

std::string ChecksumLine(const std::string& path, const Digest& hash, bool first,
                         const ChecksumMark& mark) {
  if (IsUtf8(path)) {
    LineWriter w(first);
    if (mark.changed_while_read) w.True("changed_while_read");
    w.String("path", path);
    w.String("sha256", Hex(hash));
    if (mark.changed_while_read) w.Unsigned("size", mark.size);
    return w.Finish();
  }
  json j;
  PutName(j, "path", path);
  j["sha256"] = Hex(hash);
  if (mark.changed_while_read) {
    j["changed_while_read"] = true;
    j["size"] = mark.size;
  }
  return (first ? "" : ",") + j.dump() + "\n";
}

std::string ChecksumsTail() { return "]}\n"; }

BackupMeta ParseManifest(const std::string& text, const std::function<void(Entry&&)>& entry) {
  BackupMeta m;
  try {
    size_t nl = text.find('\n');
    if (nl == std::string::npos) throw Error(Code::kCorruption, "manifest: empty");
    // The head line is an unterminated object: close it to parse.
    json head = ParseUntrustedJson(text.substr(0, nl) + "]}");
    if (head.value("format", "") != kManifestFormat)
      throw Error(Code::kCorruption, "manifest: unknown format " + head.value("format", "?"));
    const json& b = head.at("backup");
    m.id = b.at("id");
    m.name = b.at("name");
    m.set_id = b.at("set");
    m.seq = b.at("seq");
    m.parent = b.value("parent", "");
    m.time = b.at("time");
    m.host = b.value("host", "");
    m.tool = b.value("tool", "");
    ForEachLine(text, [&](std::string_view l) {
      Entry e = EntryFromJson(ParseUntrustedJson(l));
      entry(std::move(e));
    });
  } catch (const json::exception& ex) {
    throw Error(Code::kCorruption, std::string("manifest: malformed JSON: ") + ex.what());
  }
  return m;
}

void ParseChecksums(
    const std::string& text,
    const std::function<void(const std::string&, const Digest&, const ChecksumMark&)>& file) {
  try {
    ForEachLine(text, [&](std::string_view l) {
      json j = ParseUntrustedJson(l);
      auto h = Unhex(j.at("sha256").get<std::string>());
      if (!h || h->size() != 32) throw Error(Code::kCorruption, "checksums: bad hash");
      Digest d;
      std::copy(h->begin(), h->end(), d.begin());
      ChecksumMark mark;
      mark.changed_while_read = j.value("changed_while_read", false);
      mark.size = j.value("size", uint64_t{0});
      file(GetName(j, "path"), d, mark);
    });
  } catch (const json::exception& ex) {
    throw Error(Code::kCorruption, std::string("checksums: malformed JSON: ") + ex.what());
  }
}

}  // namespace gb
