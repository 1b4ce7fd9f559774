// The commented config file that `glacier-backup init` writes: every key is
// listed and documented with its default, and the values init chose are filled in.
#pragma once

#include <string>
#include <vector>

namespace gb {

struct ConfigTemplateParams {
  std::vector<std::string> includes;  // empty: `includes = []`, which LoadConfig rejects
  std::string recipient;              // "age1..."; empty: `recipients = []`, rejected likewise
  std::string trusted_signer;         // "RW...": this host's signing key; empty: `[]`
  // Each empty one is written commented out, i.e. left at LoadConfig's default.
  std::string identity_file;
  std::string vault_url;
  std::string cache_dir;
  std::string state_dir;
};

// A TOML document that LoadConfig reads back to exactly these values (and the
// defaults for everything else) once includes and recipient are non-empty.
// Strings must be valid UTF-8.
std::string RenderConfigTemplate(const ConfigTemplateParams& params);

}  // namespace gb
