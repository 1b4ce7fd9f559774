// glacier-backup init [--include PATH]... [--recipient age1...] [--identity FILE] [--vault URL]
// Also creates the host's signing key and trusts it (added to a config written
// before signatures).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <regex>

#include "cli/cli_context.h"
#include "cli/exit_codes.h"
#include "core/clock.h"
#include "core/error.h"
#include "core/file.h"
#include "core/file_modes.h"
#include "crypto/identity_file.h"
#include "crypto/minisign.h"
#include "crypto/x25519.h"
#include "engine/config_template.h"
#include "engine/open_vault.h"
#include "engine/selector.h"
#include "engine/workspace.h"

namespace gb {
namespace {

struct InitOptions {
  std::vector<std::string> includes;
  std::string recipient, identity, vault;
};

std::string Absolute(const std::string& p) {
  std::string e = ExpandUser(p);
  if (!e.empty() && e[0] == '/') return NormalizePath(e);
  return NormalizePath(std::filesystem::current_path().string() + "/" + e);
}

// The default local directory vault: created by init so that the first `run` has
// somewhere to upload. Other vaults (a NAS mount, a cloud account) are left to
// `vault create`: creating a directory under an unmounted mount point would hide
// the backups on the wrong disk.
void CreateBuiltInVault(CliContext& ctx) {
  Config builtin;
  builtin.vault_url = DefaultVaultUrl();
  OpenConfiguredVault(builtin, ctx.progress(), SystemClock())->Create();
  ctx.Say("local vault " + builtin.vault_url.substr(7) + " ready");
}

// The public key ("RW...") of the signing key at `path`, generated when missing.
std::string EnsureSigningKey(CliContext& ctx, const std::string& path) {
  if (PathExists(path)) return minisign::ReadSecretKeyFile(path).Public().ToString();
  minisign::SecretKey key = minisign::SecretKey::Generate();
  minisign::WriteSecretKeyFile(path, key);
  ctx.Say("generated signing key " + path +
          " (mode 0600): every archive is signed with it; its public key is in trusted_signers");
  return key.Public().ToString();
}

// A config written before signatures gets `trusted_signers` under [encryption];
// one that has the key already is left for its owner to edit. True if changed.
bool AddTrustedSigner(CliContext& ctx, const std::string& path, const std::string& signer) {
  std::string text = ReadFileToString(path);
  static const std::regex has_key(R"((^|\n)[ \t]*trusted_signers[ \t]*=)");
  static const std::regex section(R"((^|\n)[ \t]*\[encryption\][^\n]*\n?)");
  std::smatch m;
  if (std::regex_search(text, has_key) || !std::regex_search(text, m, section)) {
    ctx.Say("warning: " + path + " does not trust this host's signing key; add \"" + signer +
            "\" to [encryption] trusted_signers");
    return false;
  }
  size_t at = static_cast<size_t>(m.position(0) + m.length(0));
  std::string line = "trusted_signers = [\"" + signer + "\"]  # added by glacier-backup init\n";
  if (at > 0 && text[at - 1] != '\n') line = "\n" + line;
  text.insert(at, line);
  struct stat st;
  mode_t mode = ::stat(path.c_str(), &st) == 0 ? (st.st_mode & 0777) : 0600;
  WriteFileAtomic(path, text, mode);
  ctx.Say("added this host's signing key to trusted_signers in " + path);
  return true;
}

}  // namespace

void AddInitCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  auto opts = std::make_shared<InitOptions>();
  CLI::App* cmd =
      app.add_subcommand("init",
                         "Write a commented config, generate an identity, create the catalog "
                         "(never overwrites anything)");
  cmd->add_option("--include", opts->includes, "A path to back up (repeatable)");
  cmd->add_option("--recipient", opts->recipient,
                  "Encrypt to this age public key instead of generating an identity");
  cmd->add_option("--identity", opts->identity,
                  "Identity file to use or create (default: identity.txt beside the config)");
  cmd->add_option("--vault", opts->vault, "Vault URL (default: a local directory vault)");
  cmd->callback([&ctx, &exit_code, opts] {
    (void)exit_code;
    std::string path = Absolute(ctx.ConfigPath());
    bool wrote = !PathExists(path);
    if (wrote) {
      std::string identity = opts->identity.empty() ? JoinPath(Dirname(path), "identity.txt")
                                                    : Absolute(opts->identity);
      std::string recipient = opts->recipient;
      MakeDirs(Dirname(path), 0700);
      if (recipient.empty()) {
        if (PathExists(identity)) {
          RequirePrivateFile(identity, "identity file");
          for (const auto& id : age::ReadIdentityFile(identity))
            if (auto* x = dynamic_cast<const age::X25519Identity*>(id.get());
                x && recipient.empty())
              recipient = x->Recipient().ToString();
          if (recipient.empty())
            throw Error(Code::kInvalidArgument, identity + " holds no X25519 identity");
          ctx.Say("using the existing identity " + identity);
        } else {
          age::X25519Identity id = age::X25519Identity::Generate();
          age::WriteIdentityFile(identity, id);
          recipient = id.Recipient().ToString();
          ctx.Say("generated identity " + identity +
                  " (mode 0600): keep a copy somewhere safe, restores need it");
        }
      }
      ConfigTemplateParams p;
      for (const auto& inc : opts->includes) p.includes.push_back(Absolute(inc));
      p.recipient = recipient;
      p.trusted_signer = EnsureSigningKey(ctx, JoinPath(Dirname(path), "signing.key"));
      if (identity != JoinPath(Dirname(path), "identity.txt")) p.identity_file = identity;
      p.vault_url = opts->vault;
      WriteFileAtomic(path, RenderConfigTemplate(p), 0600);
      ctx.Say("wrote " + path);
    } else {
      ctx.Say(path + " exists; left unchanged");
    }
    Config cfg;
    try {
      cfg = LoadConfig(path);
    } catch (const Error& e) {
      if (!PathExists(path)) throw;
      // The built-in vault is needed as soon as the config is complete.
      if (wrote && opts->vault.empty()) CreateBuiltInVault(ctx);
      ctx.Say(std::string("the config is not complete yet: ") + e.what());
      ctx.Say("edit it, then run `glacier-backup backup`");
      ctx.Json({{"config", path}, {"ready", false}, {"problem", e.what()}});
      return;
    }
    // A config from before signatures: the signing key and its trust are added.
    if (std::string signer = EnsureSigningKey(ctx, cfg.signing_key_file);
        std::find(cfg.trusted_signers.begin(), cfg.trusted_signers.end(), signer) ==
            cfg.trusted_signers.end() &&
        AddTrustedSigner(ctx, path, signer))
      cfg = LoadConfig(path);
    Workspace ws(cfg);
    ctx.Say("catalog " + ws.catalog().path() + " ready; archives go to " + cfg.cache_dir);
    if (cfg.vault_url == DefaultVaultUrl())
      CreateBuiltInVault(ctx);
    else
      ctx.Say("vault " + cfg.vault_url +
              ": create it with `glacier-backup vault create` (fine if "
              "it exists)");
    if (cfg.passphrase_file.empty() && !PathExists(cfg.identity_file))
      ctx.Say("note: identity file " + cfg.identity_file +
              " is not on this machine; backups work, restores need it");
    ctx.Json({{"config", path},
              {"ready", true},
              {"catalog", ws.catalog().path()},
              {"cache_dir", cfg.cache_dir},
              {"identity_file", cfg.identity_file},
              {"vault", cfg.vault_url},
              {"signing_key_file", cfg.signing_key_file},
              {"trusted_signers", cfg.trusted_signers}});
  });
}

}  // namespace gb
