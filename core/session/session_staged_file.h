// The write path of the session file: a session is never modified in place. A change is made
// on a copy "<path>.tmp-XXXXXX" in the same directory (rename is atomic only within one file
// system), which is fsync'ed and renamed over the session, and the directory is fsync'ed. A
// crash or SIGKILL at any moment therefore leaves either the old or the new complete file at
// <path> (plus, at worst, a stray temp file that readers never look at).
// Writers of sessions in one directory are serialized by an flock on the directory (held from
// the copy to the rename), so two processes appending to one session cannot lose each other's
// experiment. Readers take no lock: a file at <path> is never written again once in place.
// No HDF5 here: the caller opens path() with HDF5, edits it and closes it before commit().
#pragma once

#include <string>

namespace qs {

class StagedSessionFile {
public:
    enum class Start {
        Empty,         // a new, empty temp file (create_session)
        CopyOfTarget,  // a byte copy of the existing session (append, baseline)
    };

    // Throws QsError naming target when the directory or (CopyOfTarget) the target cannot be
    // read, or the temp file cannot be made.
    StagedSessionFile(const std::string& target, Start start);
    ~StagedSessionFile();  // removes the temp file unless committed
    StagedSessionFile(const StagedSessionFile&) = delete;
    StagedSessionFile& operator=(const StagedSessionFile&) = delete;

    const std::string& path() const { return m_temp_path; }

    // fsync the temp file, rename it to target (replace_existing false: fail, naming target,
    // if target exists by then), fsync the directory.
    void commit(bool replace_existing);

private:
    void release();  // closes, removes the uncommitted temp file, drops the lock

    std::string m_target;
    std::string m_temp_path;
    int m_temp_fd = -1;
    int m_directory_fd = -1;  // holds the writer lock
    bool m_committed = false;
};

}  // namespace qs
