// Test-only helpers shared by the engine's tests: a progress that keeps the
// problems it is told, files with known content, and trees as a user sees them.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/file.h"
#include "core/hex.h"
#include "core/sha256.h"
#include "crypto/minisign.h"
#include "engine/progress.h"

namespace gb::test {

// Collects problems so a failing assertion can show them.
class RecordingProgress : public Progress {
 public:
  void Notice(const std::string& path, const std::string& message, bool problem) override {
    if (problem) problems.push_back(path + ": " + message);
  }
  std::string Show() const {
    std::string s;
    for (const auto& p : problems) s += p + "\n";
    return s;
  }
  std::vector<std::string> problems;
};

inline void WriteText(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  ::chmod(path.c_str(), mode);
}

// A signing key at dir/signing.key (where a config in dir finds it by
// default); returns the [encryption] line that trusts it.
inline std::string TrustedSigningKey(const std::string& dir) {
  minisign::SecretKey key = minisign::SecretKey::Generate();
  if (!PathExists(dir + "/signing.key")) minisign::WriteSecretKeyFile(dir + "/signing.key", key);
  return "trusted_signers = [\"" +
         minisign::ReadSecretKeyFile(dir + "/signing.key").Public().ToString() + "\"]\n";
}

inline std::string RandomText(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

// What a user would notice of a tree: type, mode, mtime, bytes, link targets.
inline std::map<std::string, std::string> ScanTree(const std::string& root) {
  namespace fs = std::filesystem;
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    std::string p = it->path().string(), rel = p.substr(root.size());
    struct stat st;
    ::lstat(p.c_str(), &st);
    std::string d = std::to_string(st.st_mode) + " " + std::to_string(st.st_mtim.tv_sec) + "." +
                    std::to_string(st.st_mtim.tv_nsec);
    if (S_ISREG(st.st_mode)) d += " " + Hex(Sha256::Of(ReadFileToString(p)));
    if (S_ISLNK(st.st_mode)) d += " -> " + fs::read_symlink(p).string();
    out[rel] = d;
  }
  return out;
}

}  // namespace gb::test
