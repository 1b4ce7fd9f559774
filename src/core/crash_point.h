// Named points where tests kill the process (SIGKILL, no cleanup) to prove a
// run interrupted there is finished by the next one. Active only when the
// environment names the point: GLACIER_BACKUP_CRASH_AT=<name>.
#pragma once

namespace gb {

void CrashPoint(const char* name);

}  // namespace gb
