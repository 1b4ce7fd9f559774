// The metadata of an Entry beyond stat (device number, extended attributes,
// ACLs, file flags, the metadata-only and changed-while-read marks) as JSON
// fields: the manifest adds them to an entry's line, the catalog and the entry
// spool keep them as one text that is empty for the common file without any.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "core/entry.h"

namespace gb {

bool HasExtras(const Entry& e);
// Adds the extras of `e` to `j` (nothing for a plain file). Values of
// extended attributes are hex, as they are bytes.
void PutExtras(const Entry& e, nlohmann::json& j);
// Reads what PutExtras wrote; absent fields stay default. kCorruption on bad hex.
void GetExtras(const nlohmann::json& j, Entry* e);

// PutExtras as compact JSON text; "" when the entry has none.
std::string ExtrasText(const Entry& e);
void ExtrasFromText(const std::string& text, Entry* e);  // "" leaves them default

// Whether two entries' extended attributes, ACLs and file flags are equal.
bool SameExtendedMetadata(const Entry& a, const Entry& b);

}  // namespace gb
