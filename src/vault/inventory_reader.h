// Reads an inventory job's output into memory, bounded: a vault may claim an
// output of any length, and a hostile or broken one may send it.
#pragma once

#include <cstdint>
#include <string>

#include "vault/vault.h"

namespace gb {

// At most this many bytes of inventory are read: about 2 million archives of
// ~500 bytes each (id, description, date, size, tree hash), far more than
// glacier-backup writes (one bundle per set). A longer output fails as
// kCorruption naming the job.
inline constexpr uint64_t kMaxInventoryBytes = uint64_t{1} << 30;

// ReadJobOutput of inventory job `job_id`, then ParseInventory. Throws what
// they throw (JobNotReadyError, kNotFound for an expired job, kCorruption).
Inventory ReadInventory(Vault& vault, const std::string& job_id,
                        uint64_t max_bytes = kMaxInventoryBytes);

}  // namespace gb
