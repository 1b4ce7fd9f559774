#include "engine/config_template.h"

#include <cstdio>

namespace gb {
namespace {

// A TOML basic string.
std::string TomlString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// `key = "value"`, or commented out with `fallback` shown when value is empty.
std::string StringKey(const std::string& key, const std::string& value,
                      const std::string& fallback) {
  if (value.empty()) return "# " + key + " = " + TomlString(fallback) + "\n";
  return key + " = " + TomlString(value) + "\n";
}

}  // namespace

std::string RenderConfigTemplate(const ConfigTemplateParams& p) {
  std::string out;
  out += R"(# glacier-backup configuration (TOML).
#
# Every key is listed below with a comment. A commented-out key ("# key = ...") shows
# its default; remove the "# " to change it. "~" means your home directory, and relative
# paths are relative to the directory of this file. Sizes are a number of bytes or a
# string such as "500 GB", "1.5 TiB" or "200 MiB" (KB, MB, GB, TB: powers of 1000;
# KiB, MiB, GiB, TiB: powers of 1024).

[source]
# What to back up: absolute paths of directories or single files. At least one is
# needed, here or in the spec file. Whether they exist is checked when backing up.
)";
  if (p.includes.empty()) {
    out += "includes = []  # e.g. [\"~/Documents\", \"/etc/fstab\"]\n";
  } else {
    out += "includes = [\n";
    for (const std::string& include : p.includes) out += "  " + TomlString(include) + ",\n";
    out += "]\n";
  }
  out += R"(
# What to skip below the includes (files and directories alike):
#   "*.tmp"              names ending in ".tmp"
#   ".git"               anything named exactly ".git"
#   "/home/me/junk"      that path and everything below it
#   "cache-?"            a glob on the name: * any characters, ? one, [a-z] one of a set
#   "build/*.o"          a glob on the end of the path; "**/" spans any directories
#   "/home/*/tmp"        a glob from the root; everything below a match too
# A trailing "/" is ignored.
excludes = []

# The original tool's JSON file, {"includes": [...], "excludes": [...]}. Its entries
# are added to the ones above.
# spec = "includeexclude.json"

# A program whose output is backed up as a file, e.g. a database dump, streamed
# without a copy left on disk. `run` is argv (no shell); `timeout` (seconds) and
# `user` (run as that user; needs root) are optional. A command that fails or
# times out is reported, the rest is backed up, and the run exits with code 3.
# Repeat the block for more commands; remove the "#   " to use it.
#   [[source.command]]
#   path = "/var/backups/postgres/app.sql"
#   run = ["pg_dump", "--format=plain", "app"]
#   timeout = 3600
#   user = "postgres"

[backup]
# Incremental backups taken after a full one before the next full backup starts a
# new set. 0 = every backup is full.
# max_incrementals = 7

# How changed files are found: "metadata" (size and modification time; fast) or
# "content" (hash every file; slow, but sees changes that keep size and time).
# change_detection = "metadata"

# A file that keeps changing while it is read (a busy log, a mailbox) is read
# again a few times; if it never holds still, "store" keeps the version read
# (for a file that only grew: its first bytes up to the size it had), marked
# "changed while read"; "skip" leaves it out until a run finds it still. Both
# warn and exit with code 3. For live databases use a snapshot or a dump instead.
# on_change = "store"

# zstd compression level: 1 (fastest) to 19 (smallest).
# compression_level = 3

# Changed files at least this big go into incrementals as rsync deltas against
# their previous version when that is less than half the file, and renamed,
# moved or copied ones as references to the content already stored; 0 = never.
# delta_min_size = "1 MiB"

# Worker threads; 0 = one per CPU core. When set, it also caps the threads that
# read files ahead of the archive writer (8 otherwise; 1 = one read at a time)
# and those that write small files in a restore (4 otherwise).
# threads = 0

# Where backup sets are built before upload; needs room for one set.
)";
  out += StringKey("cache_dir", p.cache_dir, "~/.cache/glacier-backup");
  out += R"(
# How much cache_dir may hold while sets wait for room in the vault: backup will not
# write past it, and sync fails (exit 9) when it is reached and nothing could be
# uploaded. 0 = eight sets' worth.
# cache_limit = 0

# Where the catalog of backups and the lock live.
)";
  out += StringKey("state_dir", p.state_dir, "~/.local/share/glacier-backup");
  out += R"(
# The name this host goes by in the vault (letters, digits, '.', '_', '-');
# several hosts sharing one vault need different names. Default: the host name.
# host = "laptop"

[encryption]
# age public keys to encrypt backups to: the "public key: age1..." line that
# age-keygen prints. Any one of the matching secret keys can restore.
)";
  if (p.recipient.empty()) {
    out += "recipients = []  # e.g. [\"age1...\"]\n";
  } else {
    out += "recipients = [" + TomlString(p.recipient) + "]\n";
  }
  out += R"(
# The age identity (secret key) file, needed only to restore and verify. Keep a copy
# away from this machine and the vault: without it the backups cannot be read.
)";
  out += StringKey("identity_file", p.identity_file, "identity.txt");
  out += R"(
# Public keys ("RW...", minisign format) whose signatures are trusted. Every archive
# and catalog copy is signed; restore, recover, verify and sync refuse what none of
# these signed. One per host writing to the vault; keep this list with the identity.
)";
  if (p.trusted_signer.empty()) {
    out += "trusted_signers = []  # e.g. [\"RW...\"]\n";
  } else {
    out += "trusted_signers = [" + TomlString(p.trusted_signer) + "]\n";
  }
  out += R"(
# This host's secret signing key (minisign format, mode 0600; `minisign -G -W`
# makes one too). Only backup hosts need it; it never leaves this machine.
# signing_key_file = "signing.key"

# Instead of recipients: encrypt with an age passphrase read from this file
# (mode 0600: refused when group or others can read it).
# Cannot be combined with recipients.
# passphrase_file = "passphrase.txt"

[vault]
# Where backups are stored:
#   "file:///DIR"              a local or mounted directory ("file://~/DIR" works too)
#   "glacier://REGION/VAULT"   an S3 Glacier vault, e.g. "glacier://eu-west-1/backups"
#   "s3://BUCKET/PREFIX"       an S3 bucket, objects stored in storage_class
)";
  out += StringKey("url", p.vault_url, "file://~/.local/share/glacier-backup/vault");
  out += R"(
# Another S3 / Glacier endpoint, e.g. "http://127.0.0.1:5000" for a test server.
# Default: the AWS endpoint of the region.
# endpoint = "https://..."

# AWS region. For glacier:// it comes from url.
# region = "eu-west-1"

# AWS credentials profile (~/.aws/credentials). Default: the usual AWS credential chain.
# profile = "default"

# s3:// only: "DEEP_ARCHIVE", "GLACIER", "GLACIER_IR", "STANDARD_IA" or "STANDARD".
# storage_class = "DEEP_ARCHIVE"

# Cap on the total size kept in the vault; the oldest sets are pruned to stay under
# it, e.g. "500 GB". 0 = no cap.
# size_limit = 0

# Days an archive must stay stored before deleting it costs nothing extra.
# Default: the minimum the storage bills for (AWS: Glacier vaults and GLACIER 90,
# DEEP_ARCHIVE 180, GLACIER_IR 90, STANDARD_IA 30).
# min_storage_days = 180

# "bundle": upload a backup set as one archive once it is complete (fewer objects,
# less per-object overhead). "each": upload every backup as soon as it is taken.
# upload = "bundle"

# Completed backup sets to keep in cache_dir after upload.
# keep_local_sets = 0

# When size_limit cannot take every set: "newest" uploads the newest complete set as
# soon as the vault can take one, and older waiting sets are dropped (superseded);
# "all" uploads every set, oldest first, however long they wait in cache_dir.
# Rule of thumb: every set goes up when size_limit >= set size x (min_storage_days /
# days between full backups); with less, the vault holds size_limit / set size sets,
# can take one every min_storage_days / that many days, and its newest copy gets up
# to that plus the days between full backups old. `status` works it out for you.
# backlog = "newest"

# Sync fails (exit 9) when it could upload nothing and the newest backup in the
# vault is older than this many days: the number to alert on.
# max_staleness_days = 30

# Refresh the vault inventory when it is older than this many days ...
# inventory_max_age_days = 7
# ... but ask for a new one at most once per this many days.
# inventory_min_interval_days = 2

# Upload speed limit in bytes per second, e.g. "10 MB". 0 = unlimited.
# bandwidth_limit = 0

# Retrieval speed (and price) for restores: "Expedited" (minutes; dearest; not for
# DEEP_ARCHIVE), "Standard" (hours) or "Bulk" (up to 12 h, 48 h for DEEP_ARCHIVE; cheapest).
# retrieval_tier = "Bulk"

[prices]
# Cost estimates (status, sync, restore plans) use AWS's us-east-1 list prices
# built in, with the date they were taken. Set your own here (USD) for another
# region or a negotiated rate; unset keys keep the built-in price.
# storage_gb_month = 0.00099
# put_per_1000 = 0.05
# retrieval_gb_expedited = 0.03
# retrieval_gb_standard = 0.02
# retrieval_gb_bulk = 0.0025
# retrieval_per_1000_expedited = 10.0
# retrieval_per_1000_standard = 0.10
# retrieval_per_1000_bulk = 0.025
# taken = "eu-west-1 list prices of 2026-10-01"

[fleet]
# Several hosts sharing one vault ([backup] host tells them apart):
# `status --fleet` flags a host whose newest upload is older than this.
# stale_after_days = 3
# The budget for all hosts together: before it uploads, a host prunes its own
# oldest sets (as for [vault] size_limit) until the fleet's total stays under
# it, or waits (exit 9, naming the hosts that hold the most). s3:// enforces it
# exactly, through a lease object in the bucket; glacier:// and file:// only
# as far as the last inventory knows (advisory). 0 = no fleet budget.
# size_limit = 0
# s3://: how long the lease a host takes before such uploads lasts; a host
# that died holding it delays the others at most this long.
# lease_seconds = 600

[hooks]
# Commands run around backup, run and sync: each an argv list (no shell). The
# environment names the command (GLACIER_BACKUP_COMMAND), the backup made
# (GLACIER_BACKUP_ID), the exit code (GLACIER_BACKUP_EXIT_CODE) and the log
# (GLACIER_BACKUP_LOG_FILE). A failing `before` hook stops the run (exit 11);
# `after` hooks run on success, `on_error` hooks on any other exit code.
# before = [["systemctl", "stop", "app"]]
# after = [["systemctl", "start", "app"]]
# on_error = [["systemctl", "start", "app"]]
# Seconds each hook may take before it is killed.
# timeout = 600

[monitoring]
# A healthchecks.io check (or anything speaking its protocol): URL/start when a
# run starts, URL on success, URL/EXITCODE with the end of the log on failure.
# ping_url = "https://hc-ping.com/UUID"
# Prometheus metrics for node_exporter's textfile collector, rewritten after
# every backup, run and sync.
# textfile = "/var/lib/prometheus/node-exporter/glacier_backup.prom"
)";
  return out;
}

}  // namespace gb
