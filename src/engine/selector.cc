#include "engine/selector.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace gb {
namespace {

bool HasGlobChars(std::string_view s) { return s.find_first_of("*?[\\") != std::string_view::npos; }

// Splits "a/b//c" into non-empty components.
std::vector<std::string_view> SplitComponents(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

// Matches name[c] against the bracket expression starting at glob[i] == '['.
// Returns false in *valid when there is no closing ']' (the '[' is then a
// literal); otherwise sets *next to the index after the ']'.
bool MatchBracket(std::string_view glob, size_t i, char c, bool* valid, size_t* next) {
  size_t j = i + 1;
  bool negate = false;
  if (j < glob.size() && (glob[j] == '!' || glob[j] == '^')) {
    negate = true;
    ++j;
  }
  bool matched = false;
  bool first = true;
  while (j < glob.size()) {
    char lo = glob[j];
    if (lo == ']' && !first) {
      *valid = true;
      *next = j + 1;
      return matched != negate;
    }
    first = false;
    if (lo == '\\' && j + 1 < glob.size()) lo = glob[++j];
    char hi = lo;
    if (j + 2 < glob.size() && glob[j + 1] == '-' && glob[j + 2] != ']') {
      hi = glob[j + 2];
      j += 2;
      if (hi == '\\' && j + 1 < glob.size()) hi = glob[++j];
    }
    auto uc = static_cast<unsigned char>(c);
    if (static_cast<unsigned char>(lo) <= uc && uc <= static_cast<unsigned char>(hi)) {
      matched = true;
    }
    ++j;
  }
  *valid = false;
  return false;
}

// Matches one glob element at glob[gi] against name[ni]. On success sets
// *gnext to the index after the element.
bool MatchOne(std::string_view glob, size_t gi, char c, size_t* gnext) {
  char g = glob[gi];
  if (g == '?') {
    *gnext = gi + 1;
    return true;
  }
  if (g == '[') {
    bool valid;
    bool m = MatchBracket(glob, gi, c, &valid, gnext);
    if (valid) return m;
    *gnext = gi + 1;
    return c == '[';
  }
  if (g == '\\' && gi + 1 < glob.size()) {
    *gnext = gi + 2;
    return c == glob[gi + 1];
  }
  *gnext = gi + 1;
  return c == g;
}

}  // namespace

bool GlobMatch(std::string_view glob, std::string_view name) {
  // Classic single-backtrack matcher: on a mismatch, let the last '*' swallow
  // one more character. Linear-ish, no recursion, no allocation.
  size_t gi = 0, ni = 0;
  size_t star_g = std::string_view::npos, star_n = 0;
  while (ni < name.size()) {
    if (gi < glob.size() && glob[gi] == '*') {
      while (gi < glob.size() && glob[gi] == '*') ++gi;
      star_g = gi;
      star_n = ni;
      continue;
    }
    size_t gnext;
    if (gi < glob.size() && MatchOne(glob, gi, name[ni], &gnext)) {
      gi = gnext;
      ++ni;
      continue;
    }
    if (star_g == std::string_view::npos) return false;
    gi = star_g;
    ni = ++star_n;
  }
  while (gi < glob.size() && glob[gi] == '*') ++gi;
  return gi == glob.size();
}

Selector::Component Selector::Component::Make(std::string_view text) {
  Component c;
  c.text = std::string(text);
  if (text == "**") {
    c.kind = kAnyComponents;
    return c;
  }
  if (!HasGlobChars(text)) {
    c.kind = kLiteral;
    return c;
  }
  c.kind = kGlob;
  for (size_t i = 0; i < text.size();) {
    c.last_char = -1;
    if (text[i] == '*') {
      c.has_star = true;
      ++i;
      continue;
    }
    ++c.min_length;
    if (text[i] == '?') {
      ++i;
    } else if (text[i] == '[') {
      bool valid;
      size_t next;
      MatchBracket(text, i, 'x', &valid, &next);
      if (valid) {
        i = next;
      } else {
        c.last_char = static_cast<unsigned char>(text[i++]);
      }
    } else if (text[i] == '\\' && i + 1 < text.size()) {
      c.last_char = static_cast<unsigned char>(text[i + 1]);
      i += 2;
    } else {
      c.last_char = static_cast<unsigned char>(text[i++]);
    }
  }
  return c;
}

bool Selector::Component::Matches(std::string_view name) const {
  switch (kind) {
    case kLiteral:
      return name == text;
    case kAnyComponents:
      return true;
    case kGlob:
      if (name.size() < min_length || (!has_star && name.size() != min_length)) return false;
      if (last_char >= 0 && static_cast<unsigned char>(name.back()) != last_char) return false;
      return GlobMatch(text, name);
  }
  return false;
}

std::string NormalizePath(std::string_view path) {
  bool absolute = !path.empty() && path[0] == '/';
  std::vector<std::string_view> kept;
  for (std::string_view c : SplitComponents(path)) {
    if (c == ".") continue;
    if (c == "..") {
      if (!kept.empty() && kept.back() != "..") {
        kept.pop_back();
      } else if (!absolute) {
        kept.push_back(c);
      }
      continue;
    }
    kept.push_back(c);
  }
  std::string out;
  for (std::string_view c : kept) {
    if (absolute || !out.empty()) out += '/';
    out += c;
  }
  if (out.empty()) out = absolute ? "/" : ".";
  return out;
}

Selector::Selector(const std::vector<std::string>& includes,
                   const std::vector<std::string>& excludes) {
  for (const std::string& p : excludes) AddPattern(p);

  std::vector<std::string> sorted;
  for (const std::string& inc : includes) {
    if (inc.empty() || inc[0] != '/') {
      throw Error(Code::kInvalidArgument,
                  "include \"" + inc + "\" is not an absolute path (start it with / or ~/)");
    }
    sorted.push_back(NormalizePath(inc));
  }
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  // An ancestor sorts before its descendants (it is a prefix), so checking
  // against the roots kept so far is enough.
  for (const std::string& inc : sorted) {
    bool inside = std::any_of(roots_.begin(), roots_.end(), [&](const std::string& root) {
      return root == "/" || (inc.size() > root.size() && inc.compare(0, root.size(), root) == 0 &&
                             inc[root.size()] == '/');
    });
    if (!inside && !Excluded(inc)) roots_.push_back(inc);
  }
}

void Selector::AddPattern(std::string_view pattern) {
  std::string_view p = pattern;
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  if (p.empty()) throw Error(Code::kInvalidArgument, "empty exclude pattern");

  std::vector<std::string_view> comps = SplitComponents(p);
  for (std::string_view c : comps) {
    if (c == "..") {
      throw Error(Code::kInvalidArgument, "exclude pattern \"" + std::string(pattern) +
                                              "\" may not contain \"..\" components");
    }
  }
  std::erase(comps, std::string_view("."));
  bool has_slash = p.find('/') != std::string_view::npos;

  if (!has_slash) {
    if (p == ".") {
      throw Error(Code::kInvalidArgument, "exclude pattern \".\" matches nothing");
    }
    if (!HasGlobChars(p)) {
      names_.emplace(p);
      name_lengths_ |= uint64_t{1} << std::min<size_t>(p.size(), 63);
    } else if (p[0] == '*' && !HasGlobChars(p.substr(1))) {
      suffixes_.emplace_back(p.substr(1));
    } else {
      name_globs_.push_back(Component::Make(p));
    }
    return;
  }

  if (p[0] == '/') {
    if (!HasGlobChars(p)) {
      std::string normal;
      for (std::string_view c : comps) normal.append("/").append(c);
      abs_paths_.push_back(normal.empty() ? "/" : normal);
      return;
    }
  } else {
    // A relative pattern matches tails: the same as a leading "**".
    if (comps.empty() || comps.front() != "**") comps.insert(comps.begin(), "**");
    if (comps.size() == 2 && comps[1] != "**") {
      AddPattern(comps[1]);  // "**/name" is just a name pattern
      return;
    }
  }

  PathGlob glob;
  for (std::string_view c : comps) {
    if (c == "**" && !glob.parts.empty() && glob.parts.back().kind == Component::kAnyComponents) {
      continue;
    }
    glob.parts.push_back(Component::Make(c));
  }
  (p[0] == '/' ? abs_globs_ : tail_globs_).push_back(std::move(glob));
}

bool Selector::MatchComponents(const std::vector<Component>& parts, size_t pi,
                               std::string_view rest, bool allow_prefix) {
  for (;;) {
    if (pi == parts.size()) return rest.empty() || allow_prefix;
    const Component& part = parts[pi];
    if (part.kind == Component::kAnyComponents) {
      for (;;) {
        if (MatchComponents(parts, pi + 1, rest, allow_prefix)) return true;
        if (rest.empty()) return false;
        size_t slash = rest.find('/');
        rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
      }
    }
    if (rest.empty()) return false;
    size_t slash = rest.find('/');
    std::string_view comp = rest.substr(0, slash);
    if (!part.Matches(comp)) return false;
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    ++pi;
  }
}

bool Selector::Excluded(std::string_view abs_path) const {
  if (abs_path.empty()) return false;
  std::string_view name = abs_path.substr(abs_path.rfind('/') + 1);
  if ((name_lengths_ >> std::min<size_t>(name.size(), 63) & 1) != 0 &&
      names_.find(name) != names_.end()) {
    return true;
  }
  for (const std::string& s : suffixes_) {
    if (name.size() >= s.size() &&
        std::memcmp(name.data() + name.size() - s.size(), s.data(), s.size()) == 0) {
      return true;
    }
  }
  for (const std::string& p : abs_paths_) {
    if (p.size() == 1) return true;  // "/" excludes everything
    if (abs_path.size() >= p.size() && std::memcmp(abs_path.data(), p.data(), p.size()) == 0 &&
        (abs_path.size() == p.size() || abs_path[p.size()] == '/')) {
      return true;
    }
  }
  for (const Component& g : name_globs_) {
    if (g.Matches(name)) return true;
  }
  std::string_view rest = abs_path.substr(1);
  for (const PathGlob& g : abs_globs_) {
    if (MatchComponents(g.parts, 0, rest, /*allow_prefix=*/true)) return true;
  }
  for (const PathGlob& g : tail_globs_) {
    if (!g.parts.back().Matches(name)) continue;  // cheap rejection of most paths
    if (MatchComponents(g.parts, 0, rest, /*allow_prefix=*/false)) return true;
  }
  return false;
}

std::vector<std::string> Selector::Roots() const { return roots_; }

}  // namespace gb
