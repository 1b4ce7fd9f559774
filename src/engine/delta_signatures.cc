#include "engine/delta_signatures.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>

#include "core/error.h"
#include "core/file.h"
#include "core/hex.h"
#include "core/untrusted_json.h"

namespace gb {
namespace {

constexpr const char* kFormat = "glacier-backup-signature/1";

}  // namespace

SignatureStore::SignatureStore(const std::string& state_dir)
    : dir_(JoinPath(state_dir, "signatures")) {}

std::string SignatureStore::FileFor(int64_t set_id, const std::string& path) const {
  return JoinPath(JoinPath(dir_, std::to_string(set_id)), Hex(Sha256::Of(AsBytes(path))));
}

std::optional<Bytes> SignatureStore::Find(int64_t set_id, int seq, const std::string& path,
                                          const Digest& hash) {
  std::string file = FileFor(set_id, path);
  std::string text;
  try {
    if (!PathExists(file)) return std::nullopt;
    text = ReadFileToString(file);
  } catch (const Error&) {
    return std::nullopt;
  }
  size_t nl = text.find('\n');
  if (nl == std::string::npos) return std::nullopt;
  try {
    auto head = ParseUntrustedJson(text.substr(0, nl));
    Bytes sig(text.begin() + static_cast<std::ptrdiff_t>(nl) + 1, text.end());
    auto text_of = [&](const char* key) { return head.at(key).get<std::string>(); };
    if (text_of("format") != kFormat || head.at("set").get<int64_t>() != set_id ||
        head.at("seq").get<int>() != seq || text_of("path_sha256") != Hex(Sha256::Of(path)) ||
        text_of("content_sha256") != Hex(hash) ||
        text_of("signature_sha256") != Hex(Sha256::Of(sig)) || sig.empty())
      return std::nullopt;
    return sig;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

void SignatureStore::Put(int64_t set_id, int seq, const std::string& path, const Digest& hash,
                         std::span<const uint8_t> signature) {
  std::string file = FileFor(set_id, path);
  MakeDirs(Dirname(file), 0700);
  nlohmann::json head{{"format", kFormat},
                      {"set", set_id},
                      {"seq", seq},
                      {"path_sha256", Hex(Sha256::Of(AsBytes(path)))},
                      {"content_sha256", Hex(hash)},
                      {"signature_sha256", Hex(Sha256::Of(signature))}};
  AtomicFile out(file, 0600);
  out.sink().Write(AsBytes(head.dump() + "\n"));
  out.sink().Write(signature);
  out.Commit();
}

void SignatureStore::DropAllBut(std::optional<int64_t> keep) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir_, ec)) return;
  for (const auto& d : std::filesystem::directory_iterator(dir_, ec)) {
    if (keep && d.path().filename() == std::to_string(*keep)) continue;
    std::filesystem::remove_all(d.path(), ec);  // best effort: a leftover is never used
  }
}

}  // namespace gb
