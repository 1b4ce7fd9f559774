// HTTP header lists: what a request sends (in order, names as given) and what
// a response carries (looked up case-insensitively).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gb {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// ASCII case-insensitive equality, for header names.
bool HeaderNameEquals(std::string_view a, std::string_view b);
// ASCII lower case (header names, media types); other bytes stay as they are.
std::string AsciiLower(std::string_view s);

// Response headers in arrival order.
class HttpHeaders {
 public:
  void Add(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
  }
  // The value of the first header called `name`, any case.
  std::optional<std::string> Get(std::string_view name) const;
  const HeaderList& all() const { return headers_; }
  void Clear() { headers_.clear(); }

 private:
  HeaderList headers_;
};

}  // namespace gb
