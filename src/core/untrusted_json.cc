#include "core/untrusted_json.h"

#include <vector>

namespace gb {

nlohmann::json ParseUntrustedJson(std::string_view text) {
  nlohmann::json doc = nlohmann::json::parse(text);
  std::vector<const nlohmann::json*> todo = {&doc};  // no recursion: nesting may be deep
  while (!todo.empty()) {
    const nlohmann::json* v = todo.back();
    todo.pop_back();
    if (v->is_number_float()) {
      throw nlohmann::json::parse_error::create(
          101, 0, "a number with a fraction or an exponent, where only integers belong", nullptr);
    }
    if (v->is_structured())
      for (const auto& child : *v) todo.push_back(&child);
  }
  return doc;
}

}  // namespace gb
