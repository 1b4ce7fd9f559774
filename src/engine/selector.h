// Which paths a backup covers: include roots plus exclude patterns, compiled
// once and asked per file (millions of times), so Excluded() never allocates.
//
// Exclude pattern kinds (trailing '/' is ignored, so "build/" means "build"):
//   "*.tmp"          leading '*', no other glob char, no '/': any file or directory
//                    whose name ends in ".tmp" (plain suffix compare, no globbing).
//   ".git"           a bare name: any file or directory of exactly that name.
//   "/etc/passwd"    an absolute path: that path and everything below it.
//   "cache-?" "[ab]*.log" "*.o~"
//                    a glob without '/': matched against the name (last component).
//   "**/node_modules" "build/*.o"
//                    a relative glob with '/': matched against the tail of the
//                    absolute path, component by component.
//   "/home/*/tmp"    an absolute glob: matched from the root; everything below a
//                    match is excluded too.
// Glob syntax: '*' any run of characters, '?' one character, "[abc]" "[a-z]"
// "[!abc]" "[^abc]" one character of (or not of) the set, '\' quotes the next
// character. None of them match '/'. A "**" component matches zero or more
// whole path components. A '[' without a closing ']' is a literal '['.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace gb {

// "/a//b/./c/../d/" -> "/a/b/d". Lexical only (no symlinks); ".." at the root
// stays at the root. Relative input stays relative ("" for nothing left becomes ".").
std::string NormalizePath(std::string_view path);

class Selector {
 public:
  // Throws gb::Error(kInvalidArgument) naming the offending entry when an
  // include is not absolute, or a pattern is empty or contains a ".." component.
  // Includes are normalised with NormalizePath; "~" is NOT expanded here.
  Selector(const std::vector<std::string>& includes, const std::vector<std::string>& excludes);

  // Whether this entry is excluded by a pattern. Name patterns (suffix, bare
  // name, name glob) look only at the last component and relative globs only at
  // path tails ending at this entry; absolute patterns also exclude everything
  // below them. So a walker must not descend into a directory reported as
  // excluded: its contents are excluded too, but are not all reported so.
  // REQUIRES: abs_path is absolute and normalised (see NormalizePath).
  // Thread-safe (const, no shared mutable state); does not allocate.
  bool Excluded(std::string_view abs_path) const;

  // The includes to walk: normalised, sorted, duplicates and includes lying
  // inside another include removed, and includes that are Excluded() dropped.
  std::vector<std::string> Roots() const;

 private:
  // One name glob, or one '/'-separated piece of a path glob, with cheap
  // necessary conditions checked before running the glob matcher.
  struct Component {
    enum Kind { kLiteral, kGlob, kAnyComponents } kind;
    std::string text;
    size_t min_length = 0;  // kGlob: characters any match has at least
    bool has_star = false;  // kGlob: without '*' a match has exactly min_length
    int last_char = -1;     // kGlob: the character every match ends with, or -1

    static Component Make(std::string_view text);
    bool Matches(std::string_view name) const;
  };
  struct PathGlob {
    std::vector<Component> parts;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  void AddPattern(std::string_view pattern);
  // Matches parts[pi..] against `rest`, the path's remaining components without
  // a leading '/'. With allow_prefix, `rest` may go on after the parts run out.
  static bool MatchComponents(const std::vector<Component>& parts, size_t pi, std::string_view rest,
                              bool allow_prefix);

  std::vector<std::string> roots_;
  std::unordered_set<std::string, StringHash, std::equal_to<>> names_;
  uint64_t name_lengths_ = 0;  // bit min(length, 63) set for each of names_
  std::vector<std::string> suffixes_;
  std::vector<Component> name_globs_;
  std::vector<std::string> abs_paths_;
  std::vector<PathGlob> abs_globs_;
  std::vector<PathGlob> tail_globs_;
};

// fnmatch-style match of one name against one glob (syntax above; no '/'
// special-casing, since names contain none). Exposed for tests.
bool GlobMatch(std::string_view glob, std::string_view name);

}  // namespace gb
