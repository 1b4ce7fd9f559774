#include "engine/hooks.h"

#include "core/subprocess.h"

namespace gb {
namespace {

const char* KindName(HookKind kind) {
  switch (kind) {
    case HookKind::kBefore:
      return "before";
    case HookKind::kAfter:
      return "after";
    case HookKind::kOnError:
      return "on_error";
  }
  return "?";
}

// Splits output into lines for `output`; the last, unterminated line on Flush.
class LineSplitter {
 public:
  explicit LineSplitter(const std::function<void(const std::string&)>& output) : output_(output) {}
  void Add(std::span<const uint8_t> data) {
    for (uint8_t b : data) {
      if (b == '\n') {
        Flush();
      } else if (pending_.size() < 4096) {
        pending_ += static_cast<char>(b);
      }
    }
  }
  void Flush() {
    if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
    if (!pending_.empty() && output_) output_(pending_);
    pending_.clear();
  }

 private:
  const std::function<void(const std::string&)>& output_;
  std::string pending_;
};

}  // namespace

std::string RunHooks(const Config& cfg, HookKind kind, const HookContext& context,
                     const std::function<void(const std::string& line)>& output) {
  const std::vector<std::vector<std::string>>& hooks = kind == HookKind::kBefore ? cfg.hooks.before
                                                       : kind == HookKind::kAfter
                                                           ? cfg.hooks.after
                                                           : cfg.hooks.on_error;
  for (const std::vector<std::string>& argv : hooks) {
    SubprocessOptions o;
    o.argv = argv;
    o.timeout_ms = static_cast<int64_t>(cfg.hooks.timeout_seconds) * 1000;
    o.env = {"GLACIER_BACKUP_COMMAND=" + context.command,
             std::string("GLACIER_BACKUP_HOOK=") + KindName(kind),
             "GLACIER_BACKUP_ID=" + context.backup_id,
             "GLACIER_BACKUP_EXIT_CODE=" +
                 (context.exit_code ? std::to_string(*context.exit_code) : std::string()),
             "GLACIER_BACKUP_LOG_FILE=" + context.log_file,
             "GLACIER_BACKUP_CONFIG=" + cfg.path};
    LineSplitter out(output), err(output);
    o.on_stdout = [&](std::span<const uint8_t> d) { out.Add(d); };
    o.on_stderr = [&](std::span<const uint8_t> d) { err.Add(d); };
    SubprocessResult r = RunSubprocess(o);
    out.Flush();
    err.Flush();
    if (r.ok()) continue;
    std::string line = std::string(KindName(kind)) + " hook `" + DescribeArgv(argv) + "` " +
                       r.Describe(o.timeout_ms);
    if (!r.stderr_tail.empty()) line += ": " + r.StderrOneLine();
    return line;
  }
  return "";
}

}  // namespace gb
