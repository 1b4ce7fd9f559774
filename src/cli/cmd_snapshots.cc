// glacier-backup snapshots [--host NAME] | ls [--host NAME] [-l] [--at WHEN] [PATH]
#include <sys/sysmacros.h>

#include <cstdio>
#include <set>

#include "cli/cli_context.h"
#include "cli/exit_codes.h"
#include "cli/host_option.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/hex.h"
#include "core/utf8.h"
#include "engine/point.h"
#include "engine/workspace.h"

namespace gb {
namespace {

// The mode column of `ls -l`: type, permissions, and a '+' when the entry has
// an ACL beyond its mode bits.
std::string ModeString(const Entry& e) {
  char t = '-';
  switch (e.type) {
    case EntryType::kDir:
      t = 'd';
      break;
    case EntryType::kSymlink:
      t = 'l';
      break;
    case EntryType::kFifo:
      t = 'p';
      break;
    case EntryType::kCharDevice:
      t = 'c';
      break;
    case EntryType::kBlockDevice:
      t = 'b';
      break;
    default:
      break;
  }
  std::string m(1, t);
  const char* rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) m += (e.mode >> (8 - i)) & 1 ? rwx[i] : '-';
  auto special = [&](int pos, uint32_t bit, char on_x, char on_no_x) {
    if (e.mode & bit)
      m[static_cast<size_t>(pos)] = m[static_cast<size_t>(pos)] == '-' ? on_no_x : on_x;
  };
  special(3, 04000, 's', 'S');
  special(6, 02000, 's', 'S');
  special(9, 01000, 't', 'T');
  if (!e.acl_access.empty() || !e.acl_default.empty()) m += '+';
  return m;
}

std::string Owner(const std::string& name, uint32_t id) {
  return name.empty() ? std::to_string(id) : name;
}

}  // namespace

void AddSnapshotsCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  auto host = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("snapshots", "List backup points");
  AddHostOption(*cmd, *host);
  cmd->callback([&ctx, &exit_code, host] {
    (void)exit_code;
    Workspace ws(CatalogConfig(ctx, *host));
    Catalog& c = ws.catalog();
    std::set<int64_t> complete;
    for (const auto& s : c.Sets())
      if (s.completed) complete.insert(s.id);
    nlohmann::json arr = nlohmann::json::array();
    if (!ctx.opts().json && !ctx.opts().quiet)
      std::printf("%-28s %-20s %-11s %5s %9s %10s %10s\n", "ID", "TIME (UTC)", "KIND", "SET",
                  "FILES", "DATA", "ARCHIVE");
    for (const BackupRecord& b : c.Backups()) {
      std::string id = BackupId(b);
      arr.push_back({{"id", id},
                     {"time", FormatIsoUtc(b.time)},
                     {"kind", b.full() ? "full" : "incremental"},
                     {"set", b.set_id},
                     {"seq", b.seq},
                     {"set_complete", complete.count(b.set_id) > 0},
                     {"files", b.files},
                     {"bytes", b.bytes},
                     {"deleted", b.deleted},
                     {"skipped", b.skipped},
                     {"archive", b.name},
                     {"archive_size", b.archive_size}});
      if (!ctx.opts().json && !ctx.opts().quiet)
        std::printf("%-28s %-20s %-11s %5lld %9llu %10s %10s\n", id.c_str(),
                    FormatIsoUtc(b.time).c_str(), b.full() ? "full" : "incremental",
                    static_cast<long long>(b.set_id), static_cast<unsigned long long>(b.files),
                    HumanBytes(b.bytes).c_str(), HumanBytes(b.archive_size).c_str());
    }
    if (arr.empty() && !ctx.opts().quiet)
      std::fprintf(stderr, "glacier-backup: %s\n", kNoBackupsYet);
    ctx.Json(arr);
  });
}

void AddLsCommand(CLI::App& app, CliContext& ctx, int& exit_code) {
  auto at = std::make_shared<std::string>();
  auto path = std::make_shared<std::string>();
  auto long_format = std::make_shared<bool>(false);
  auto host = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("ls", "List the files as of a backup point");
  cmd->add_flag("-l,--long", *long_format,
                "Long listing as ls -l: mode ('+' for an ACL), owner, group, size, time");
  cmd->add_option("--at", *at, kAtHelp);
  cmd->add_option("path", *path, "Only this path and what lies below it");
  AddHostOption(*cmd, *host);
  cmd->callback([&ctx, &exit_code, at, path, long_format, host] {
    (void)exit_code;
    Workspace ws(CatalogConfig(ctx, *host));
    BackupRecord b = ResolvePoint(ws.catalog(), *at);
    std::string filter = NormaliseFilterPath(*path);
    auto cur = ws.catalog().State(b.set_id, b.seq, false, filter);
    nlohmann::json arr = nlohmann::json::array();
    uint64_t n = 0;
    while (cur->Next()) {
      const Entry& e = cur->entry();
      ++n;
      if (ctx.opts().json) {
        nlohmann::json j = {{"path", "/" + e.path},
                            {"type", EntryTypeName(e.type)},
                            {"mode", e.mode},
                            {"size", e.size},
                            {"mtime", FormatIsoUtc(e.mtime.sec)}};
        if (!e.target.empty()) j["target"] = e.target;
        if (*long_format) {
          j["user"] = Owner(e.uname, e.uid);
          j["group"] = Owner(e.gname, e.gid);
          j["acl"] = !e.acl_access.empty() || !e.acl_default.empty();
          if (!e.xattrs.empty()) {
            nlohmann::json names = nlohmann::json::array();
            for (const auto& x : e.xattrs) names.push_back(x.first);
            j["xattrs"] = names;
          }
          if (e.changed_while_read) j["changed_while_read"] = true;
        }
        // A name that is not UTF-8 cannot be a JSON string: its exact bytes in hex.
        if (!IsValidUtf8(e.path)) j["path_hex"] = Hex(AsBytes("/" + e.path));
        if (!IsValidUtf8(e.target)) j["target_hex"] = Hex(AsBytes(e.target));
        arr.push_back(std::move(j));
      } else if (!ctx.opts().quiet && *long_format) {
        std::string size =
            e.type == EntryType::kCharDevice || e.type == EntryType::kBlockDevice
                ? std::to_string(major(e.rdev)) + ", " + std::to_string(minor(e.rdev))
                : std::to_string(e.size);
        std::printf("%-11s %-8s %-8s %12s %s /%s%s%s\n", ModeString(e).c_str(),
                    Owner(e.uname, e.uid).c_str(), Owner(e.gname, e.gid).c_str(), size.c_str(),
                    FormatIsoUtc(e.mtime.sec).c_str(), e.path.c_str(),
                    e.type == EntryType::kSymlink ? (" -> " + e.target).c_str() : "",
                    e.changed_while_read ? "  (changed while read)" : "");
      } else if (!ctx.opts().quiet) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", e.mode);
        std::printf("%-8s %s %12llu %s /%s%s\n", EntryTypeName(e.type), mode,
                    static_cast<unsigned long long>(e.size), FormatIsoUtc(e.mtime.sec).c_str(),
                    e.path.c_str(),
                    e.type == EntryType::kSymlink ? (" -> " + e.target).c_str() : "");
      }
    }
    if (n == 0 && !filter.empty())
      throw Error(Code::kNotFound, "backup " + BackupId(b) + " holds nothing at /" + filter);
    ctx.Json(arr);
  });
}

}  // namespace gb
