#include "cli/command_tree.h"

#include <algorithm>
#include <cctype>

namespace gb {
namespace {

// Numbers are N; any other value is named after the option (--config CONFIG).
std::string ValueName(const CLI::Option& o) {
  std::string t = o.get_type_name();
  if (t == "INT" || t == "UINT" || t == "FLOAT" || t == "NUMBER") return "N";
  std::string name = o.get_lnames().empty() ? o.get_name() : o.get_lnames().front();
  std::string out;
  for (char ch : name) out += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return out;
}

OptionDoc Describe(const CLI::Option& o) {
  OptionDoc d;
  d.description = o.get_description();
  d.repeatable = o.get_items_expected_max() > 1 ||
                 o.get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
  if (!o.nonpositional()) {
    d.value = o.get_name();
    return d;
  }
  for (const std::string& s : o.get_snames()) d.names.push_back("-" + s);
  for (const std::string& l : o.get_lnames()) d.names.push_back("--" + l);
  if (o.get_items_expected_max() > 0) d.value = ValueName(o);  // else a flag
  return d;
}

CommandDoc DescribeAt(const CLI::App& app, std::vector<std::string> path) {
  CommandDoc c;
  c.path = path;
  c.description = app.get_description();
  for (const CLI::Option* o : app.get_options()) {
    if (o->get_group().empty()) continue;  // hidden
    OptionDoc d = Describe(*o);
    (d.names.empty() ? c.positionals : c.options).push_back(std::move(d));
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_group().empty()) continue;  // hidden
    std::vector<std::string> p = path;
    p.push_back(sub->get_name());
    c.subcommands.push_back(DescribeAt(*sub, p));
  }
  return c;
}

}  // namespace

CommandDoc DescribeCommands(const CLI::App& app) { return DescribeAt(app, {}); }

std::string CommandLine(const CommandDoc& c, const std::string& program) {
  std::string s = program;
  for (const std::string& p : c.path) s += " " + p;
  return s;
}

}  // namespace gb
