// Process exit statuses: the one place a gb::Code becomes a number.
#pragma once

#include "core/error.h"

namespace gb {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,   // unexpected failure (local I/O error, bug)
  kExitUsage = 2,     // bad command line or configuration; nothing was changed
  kExitPartial = 3,   // finished, but some files were not backed up / restored (listed)
  kExitCorrupt = 4,   // data failed an integrity or signature check (damaged or tampered archive)
  kExitNoKey = 5,     // the identity cannot decrypt the archives (wrong or missing key)
  kExitNotFound = 6,  // no such backup point, path or archive
  kExitLocked = 7,    // another glacier-backup run holds the state lock (or the fleet lease)
  kExitVault = 8,     // the vault refused or could not be reached (credentials, network)
  kExitNoSpace = 9,   // the vault size cap cannot be honoured
  kExitPending = 10,  // waiting for the vault (retrievals in progress): run again later
  kExitHookFailed = 11,  // a [hooks] before command failed; the command did not run
  // Only the plan was shown (no --yes, no terminal to ask): nothing was started.
  kExitNotStarted = 12,
  kExitStale = 13,  // status --fleet: a host has not uploaded for [fleet] stale_after_days
  kExitInterrupted = 130,
};

int ExitCodeFor(Code code);

// The table printed by --help and the README.
inline constexpr const char* kExitCodeHelp =
    "Exit codes:\n"
    "  0  success\n"
    "  1  unexpected failure (local I/O error, bug)\n"
    "  2  bad command line or configuration (or no config file); nothing was changed\n"
    "  3  partial: finished, but some files were not backed up or restored (listed on stderr)\n"
    "  4  integrity failure: an archive is damaged or was tampered with, or not signed by a\n"
    "     trusted signer\n"
    "  5  no key: the identity file cannot decrypt the archives\n"
    "  6  not found: no such backup point, path, archive or vault; a set that lost an archive\n"
    "     was not uploaded\n"
    "  7  locked: another glacier-backup run is using the state directory, or another host\n"
    "     kept the fleet lease ([fleet] size_limit on s3://) for all of [fleet] lease_seconds\n"
    "  8  vault error: the storage refused the request or could not be reached\n"
    "  9  no space: the vault size cap or the fleet's ([fleet] size_limit) cannot be honoured\n"
    "     (or the cache reached cache_limit)\n"
    "  10 pending: retrievals from cold storage are in progress; run the same command again\n"
    "  11 a [hooks] before command failed; the command itself did not run\n"
    "  12 not started: restore or recover only printed its plan (no --yes, and no terminal\n"
    "     to ask on); nothing was retrieved or restored\n"
    "  13 stale: status --fleet found a host with no upload for [fleet] stale_after_days\n"
    "  130 interrupted\n";

}  // namespace gb
