// The catalog copy that travels with each bundle: every catalog row needed to
// restore one set (the set, its backups, their entries with hashes), as JSON
// lines, zstd-compressed and age-encrypted. `recover` reads it back on a new
// machine.
#pragma once

#include <cstdint>
#include <string>

#include "catalog/catalog.h"
#include "core/stream.h"
#include "engine/config.h"

namespace gb {

inline constexpr const char* kCatalogCopyFormat = "glacier-backup-catalog/1";

// Writes the encrypted copy of set_id's rows into `out` (finishes it).
void WriteCatalogCopy(const Config& config, Catalog& catalog, int64_t set_id, ByteSink& out);

// Reads an encrypted copy and inserts the set and its rows (replacing any
// rows of the same set). Returns the set id. kCorruption on malformed input.
int64_t ReadCatalogCopy(const Config& config, Catalog& catalog, ByteSource& in);

}  // namespace gb
