// Atomic file writes: data goes to "<path>.tmp-XXXXXX" in the same directory, is flushed and
// fsync'ed, then renamed over the target, so a crash never leaves a half-written file.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace qs {

// Permissions a plain open()/ofstream would give a new file (0666 minus the umask, read from
// /proc so no thread races umask()): what a file made with mkstemp (0600) is chmod'ed to.
unsigned default_file_mode();

// Calls write(stream) on a temporary file, then renames it to path. Throws QsError naming the
// path on any I/O failure; the temporary file is removed on failure.
void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write);

}  // namespace qs
