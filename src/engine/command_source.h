// [[source.command]]: a program's standard output backed up as a file (a
// database dump), without a copy of it on disk: the output is streamed into
// an unnamed temporary file (O_TMPFILE in cache_dir, unlinked from creation,
// so a crash leaves nothing readable) because tar needs the size before the
// data, then copied into the archive in bounded chunks.
#pragma once

#include <cstdint>
#include <string>

#include "core/clock.h"
#include "core/entry.h"
#include "core/file.h"
#include "core/sha256.h"
#include "engine/config.h"

namespace gb {

struct CommandCapture {
  bool ok = false;
  // ok: the output, its size and SHA-256, and when the command finished.
  Fd output;
  uint64_t size = 0;
  Digest hash{};
  int64_t finished = 0;
  std::string stderr_tail;  // ok: what it still said on stderr (its last lines), for a note
  // Not ok: one line naming the command, what happened and its last stderr lines.
  std::string problem;
};

// Runs the command to the end (or its timeout). Throws only when the spool
// cannot be created or written (kIOError); a failing command is a result.
CommandCapture CaptureCommand(const Config::CommandSource& command, const std::string& spool_dir,
                              Clock& clock);

// The entry a successful capture is stored as: a regular file at
// command.path, mode 0600, owned by the user glacier-backup runs as, its time
// when the command finished.
Entry CommandEntry(const Config::CommandSource& command, const CommandCapture& capture);

}  // namespace gb
