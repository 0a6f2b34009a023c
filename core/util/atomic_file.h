// Atomic file writes: data goes to "<path>.tmp-XXXXXX" in the same directory, is flushed and
// fsync'ed, then renamed over the target, so a crash never leaves a half-written file.
#pragma once

#include <functional>
#include <ostream>
#include <string>

namespace qs {

// Calls write(stream) on a temporary file, then renames it to path. Throws QsError naming the
// path on any I/O failure; the temporary file is removed on failure.
void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write);

}  // namespace qs
