// The name a backup host goes by in archive descriptions, catalog copies and
// (for several hosts sharing one vault) the vault's layout.
#pragma once

#include <string>
#include <string_view>

namespace gb {

// 1 to 63 characters of [A-Za-z0-9._-], not starting with '.' or '-': safe in an
// S3 key, a file name and a description.
bool IsSafeHostName(std::string_view name);

// This machine's host name (gethostname) made safe: other characters become '-',
// cut to 63; "unknown" when there is none.
std::string SystemHostName();

}  // namespace gb
