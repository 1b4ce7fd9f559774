// The configuration file: one TOML file (default
// ~/.config/glacier-backup/config.toml) with sections [source], [backup],
// [encryption] and [vault], plus optionally the original tool's JSON
// include/exclude spec file. LoadConfig validates everything up front, so the
// rest of the program can trust a Config; every problem is reported as one line
// "FILE:LINE: what is wrong and what to do".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gb {

enum class ChangeDetection {
  kMetadata,  // size + mtime (+ ctime/inode) decide whether a file changed
  kContent,   // every file is hashed
};

// What a backup does with a file that keeps changing while it is read.
enum class OnChange {
  kStore,  // store the version read, marked "changed while read"; warn
  kSkip,   // do not store it; warn; the next run tries again
};

struct Config {
  std::string path;  // the file it was read from: absolute, normalised

  // [source]
  // Absolute, "~" expanded, normalised (no trailing '/', '.' or '..'). TOML
  // `includes` first, then the spec file's. Existence is not checked here.
  std::vector<std::string> includes;
  // Patterns as written ("~" expanded for "~/..." ones), TOML then spec file;
  // syntax checked by compiling them into a Selector.
  std::vector<std::string> excludes;
  // [[source.command]]: a program whose standard output is stored as the file
  // `path` (absolute, normalised, unique), e.g. a database dump.
  struct CommandSource {
    std::string path;
    std::vector<std::string> run;  // argv, no shell; non-empty
    int timeout_seconds = 0;       // 0 = no limit
    std::string user;              // run as this user (needs root); empty = as we run
  };
  std::vector<CommandSource> commands;  // in the order written

  // [backup]
  int max_incrementals = 7;  // >= 0; incrementals after a full before the next full
  ChangeDetection change_detection = ChangeDetection::kMetadata;
  OnChange on_change = OnChange::kStore;
  int compression_level = 3;  // zstd 1..19
  int threads = 0;            // 0 = number of cores; at most 1024
  // Changed files at least this big go into incrementals as rsync deltas when
  // that is clearly smaller; 0 = never.
  uint64_t delta_min_size = 1 << 20;
  // The name this host goes by in the vault ([backup] host; default: the host name).
  std::string host;
  std::string cache_dir;  // default $XDG_CACHE_HOME/glacier-backup or ~/.cache/glacier-backup
  std::string state_dir;  // default $XDG_DATA_HOME/glacier-backup or ~/.local/share/glacier-backup
  // Bytes the cache may hold before sync fails for want of uploads; 0 = automatic
  // (kDefaultCacheLimitSets times the largest recent set).
  uint64_t cache_limit = 0;

  // [encryption]  Exactly one of recipients / passphrase_file is non-empty.
  std::vector<std::string> recipients;  // age X25519 public keys "age1...", checksum verified
  std::string identity_file;            // default <dir of config>/identity.txt; restore/verify
  std::string passphrase_file;          // age scrypt passphrase read from this file
  // Signatures (minisign format). The backup host signs every archive and
  // catalog copy with signing_key_file (default <dir of config>/signing.key);
  // restore, recover, verify and sync accept only what one of
  // trusted_signers ("RW..." public keys, normalised) signed.
  std::string signing_key_file;
  std::vector<std::string> trusted_signers;
  // Not from the file: --allow-unsigned accepts archives without a signature
  // (written before signatures); a bad signature is never accepted.
  bool allow_unsigned = false;

  // [vault]
  // "file:///ABS/DIR" (file:// URLs are stored with the path absolute and
  // normalised), "glacier://REGION/VAULT" or "s3://BUCKET[/PREFIX]".
  // Default: file://<state dir default>/vault.
  std::string vault_url;
  std::string endpoint;  // "http(s)://host[:port]"; empty = the AWS endpoint
  std::string region;    // for glacier:// filled from the URL when not set
  std::string profile;   // AWS shared-credentials profile; empty = default chain
  // s3:// only: DEEP_ARCHIVE (default), GLACIER, GLACIER_IR, STANDARD_IA, STANDARD.
  // Empty for other vaults.
  std::string storage_class;
  uint64_t size_limit = 0;              // bytes; 0 = no cap
  std::optional<int> min_storage_days;  // unset: the backend decides
  std::string upload = "bundle";        // "bundle" | "each"
  int keep_local_sets = 0;              // >= 0
  // "newest": under a tight cap upload the newest complete set, older waiting sets are
  // superseded; "all": every set goes up, oldest first, however long it waits.
  std::string backlog = "newest";
  int max_staleness_days = 30;          // >= 1; sync fails (exit 9) when the vault is older
  int inventory_max_age_days = 7;       // >= 0
  int inventory_min_interval_days = 2;  // >= 0
  uint64_t bandwidth_limit = 0;         // bytes per second; 0 = unlimited
  std::string retrieval_tier = "Bulk";  // "Expedited" | "Standard" | "Bulk"

  // [fleet]: hosts sharing the vault.
  int fleet_stale_after_days = 3;  // >= 1; status --fleet flags a host older than this
  uint64_t fleet_size_limit = 0;   // bytes for all hosts together; 0 = none
  // s3://: how long the fleet lease lasts (vault/fleet_lease.h); a host waits
  // at most this long for another host's lease.
  int fleet_lease_seconds = 600;

  // [hooks]: commands (argv, no shell) run around backup, run and sync.
  struct Hooks {
    std::vector<std::vector<std::string>> before, after, on_error;
    int timeout_seconds = 600;  // each hook, >= 1
  } hooks;

  // [monitoring]
  std::string ping_url;  // healthchecks.io-style "http(s)://..." without a trailing '/'; "" = none
  std::string textfile;  // Prometheus textfile ("....prom"), absolute; "" = none

  // [prices]: the user's prices (USD) in place of the built-in table's for the
  // configured storage class and region. Unset keys keep the built-in value.
  struct PriceOverrides {
    std::optional<double> storage_gb_month, put_per_1000;
    std::optional<double> retrieval_gb[3], retrieval_per_1000[3];  // Expedited, Standard, Bulk
    std::string taken;  // what the prices are, e.g. "eu-west-1 2026-10-01"; shown in status
  } prices;
};

// Reads and validates a config file. Throws gb::Error:
//   kInvalidArgument the file does not exist ("no config at PATH: run ..."),
//                    anything wrong inside it or in its spec file, as one line
//                    naming the file, the line and the key; or the file is
//                    writable by group or others.
//   kIOError         the file exists but cannot be read.
Config LoadConfig(const std::string& path);

// $XDG_CONFIG_HOME/glacier-backup/config.toml when XDG_CONFIG_HOME is an
// absolute path, else ~/.config/glacier-backup/config.toml.
std::string DefaultConfigPath();
// $XDG_CACHE_HOME/glacier-backup, else ~/.cache/glacier-backup.
std::string DefaultCacheDir();
// $XDG_DATA_HOME/glacier-backup, else ~/.local/share/glacier-backup.
std::string DefaultStateDir();
// "file://" + DefaultStateDir() + "/vault".
std::string DefaultVaultUrl();

// Parses a size: a plain integer (bytes) or a number with a unit, optionally
// fractional and space separated: "500 GB", "1.5TiB", "200MiB", "10 MB/s".
// Units (case-insensitive): B; KB MB GB TB PB (powers of 1000); KiB MiB GiB TiB
// PiB (powers of 1024). A trailing "/s" is accepted (for rates). Fractions are
// rounded down to whole bytes. nullopt when malformed, negative or > 2^64-1.
std::optional<uint64_t> ParseByteSize(std::string_view text);

}  // namespace gb
