#include "crypto/identity_file.h"

#include <cctype>

#include "core/error.h"
#include "core/file.h"

namespace gb::age {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(s[i])) !=
        std::toupper(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<std::unique_ptr<Identity>> ParseIdentityFile(std::string_view text,
                                                         const std::string& name) {
  std::vector<std::unique_ptr<Identity>> ids;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;

    auto fail = [&](const std::string& what) {
      throw Error(Code::kInvalidArgument, name + ":" + std::to_string(line_no) + ": " + what);
    };
    if (StartsWithNoCase(line, "age1")) {
      fail("this is a public key (age1...); an identity file holds secret keys");
    }
    if (StartsWithNoCase(line, "AGE-PLUGIN-")) fail("age plugin identities are not supported");
    if (!StartsWithNoCase(line, "AGE-SECRET-KEY-")) {
      fail("not an age secret key (expected AGE-SECRET-KEY-1..., '#' comments or empty lines)");
    }
    try {
      ids.push_back(std::make_unique<X25519Identity>(X25519Identity::Parse(line)));
    } catch (const Error& e) {
      fail(e.what());
    }
  }
  if (ids.empty()) throw Error(Code::kInvalidArgument, name + ": no secret keys found");
  return ids;
}

std::vector<std::unique_ptr<Identity>> ReadIdentityFile(const std::string& path) {
  std::string text = ReadFileToString(path);
  auto ids = ParseIdentityFile(text, path);
  Wipe(std::span(reinterpret_cast<uint8_t*>(text.data()), text.size()));
  return ids;
}

std::string FormatIdentityFile(const X25519Identity& identity, int64_t created_unix_seconds) {
  return "# created: " + FormatIsoUtc(created_unix_seconds) +
         "\n# public key: " + identity.Recipient().ToString() + "\n" + identity.ToString() + "\n";
}

void WriteIdentityFile(const std::string& path, const X25519Identity& identity, Clock& clock) {
  if (PathExists(path)) {
    throw Error(Code::kInvalidArgument,
                path + ": already exists; not overwriting an identity file");
  }
  std::string text = FormatIdentityFile(identity, clock.NowSeconds());
  WriteFileAtomic(path, text, 0600);
  Wipe(std::span(reinterpret_cast<uint8_t*>(text.data()), text.size()));
}

}  // namespace gb::age
