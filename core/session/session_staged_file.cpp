// Temp copy, fsync, rename, directory fsync and the per-directory writer lock of the session
// file (see session_staged_file.h for why). The copy uses copy_file_range (in-kernel, reflinks
// where the file system can) and falls back to read/write.
#include "core/session/session_staged_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace qs {

namespace {

std::string errno_text()
{
    return std::strerror(errno);
}

std::string directory_of(const std::string& path)
{
    std::string directory = std::filesystem::path(path).parent_path().string();
    return directory.empty() ? "." : directory;
}

void lock_directory(int directory_fd)
{
    // Best effort: a file system without flock (some network mounts) still gets atomic renames.
    while (::flock(directory_fd, LOCK_EX) != 0 && errno == EINTR) {
    }
}

bool write_all(int fd, const char* data, std::size_t size)
{
    while (size > 0) {
        ssize_t written = ::write(fd, data, size);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return false;
        data += written;
        size -= static_cast<std::size_t>(written);
    }
    return true;
}

// Copies the rest of `from` to `to` (both at their current offsets).
void copy_contents(int from, int to, const std::string& target)
{
    for (;;) {
        ssize_t copied = ::copy_file_range(from, nullptr, to, nullptr, std::size_t(1) << 30, 0);
        if (copied == 0) return;
        if (copied > 0) continue;
        if (errno == EINTR) continue;
        if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) break;
        fail_file(target, "cannot copy the session for writing: " + errno_text());
    }
    std::vector<char> buffer(std::size_t(1) << 20);
    for (;;) {
        ssize_t got = ::read(from, buffer.data(), buffer.size());
        if (got == 0) return;
        if (got < 0 && errno == EINTR) continue;
        if (got < 0 || !write_all(to, buffer.data(), static_cast<std::size_t>(got)))
            fail_file(target, "cannot copy the session for writing: " + errno_text());
    }
}

class ScopedFd {
public:
    explicit ScopedFd(int fd) : m_fd(fd) {}
    ~ScopedFd()
    {
        if (m_fd >= 0) ::close(m_fd);
    }
    ScopedFd(const ScopedFd&) = delete;
    ScopedFd& operator=(const ScopedFd&) = delete;
    int get() const { return m_fd; }

private:
    int m_fd;
};

}  // namespace

StagedSessionFile::StagedSessionFile(const std::string& target, Start start) : m_target(target)
{
    std::string directory = directory_of(target);
    m_directory_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (m_directory_fd < 0)
        fail_file(target, "cannot open directory " + directory + ": " + errno_text());
    lock_directory(m_directory_fd);

    try {
        std::string pattern = target + ".tmp-XXXXXX";
        std::vector<char> name(pattern.begin(), pattern.end());
        name.push_back('\0');
        m_temp_fd = ::mkostemp(name.data(), O_CLOEXEC);
        if (m_temp_fd < 0) fail_file(target, "cannot create temporary file: " + errno_text());
        m_temp_path = name.data();

        mode_t mode = default_file_mode();  // mkstemp made it 0600
        if (start == Start::CopyOfTarget) {
            ScopedFd source(::open(target.c_str(), O_RDONLY | O_CLOEXEC));
            if (source.get() < 0)
                fail_file(target,
                          errno == ENOENT ? "no such file" : "cannot open: " + errno_text());
            struct stat info {};
            if (::fstat(source.get(), &info) != 0 || !S_ISREG(info.st_mode))
                fail_file(target, "not a regular file");
            mode = info.st_mode & 07777;
            copy_contents(source.get(), m_temp_fd, target);
        }
        if (::fchmod(m_temp_fd, mode) != 0)
            fail_file(target, "cannot set permissions: " + errno_text());
    } catch (...) {
        release();
        throw;
    }
}

StagedSessionFile::~StagedSessionFile()
{
    release();
}

void StagedSessionFile::release()
{
    if (m_temp_fd >= 0) ::close(m_temp_fd);
    m_temp_fd = -1;
    if (!m_committed && !m_temp_path.empty()) ::unlink(m_temp_path.c_str());
    m_temp_path.clear();
    if (m_directory_fd >= 0) ::close(m_directory_fd);  // releases the writer lock
    m_directory_fd = -1;
}

void StagedSessionFile::commit(bool replace_existing)
{
    if (::fsync(m_temp_fd) != 0) fail_file(m_target, "fsync failed: " + errno_text());
    ::close(m_temp_fd);
    m_temp_fd = -1;
    if (replace_existing) {
        if (::rename(m_temp_path.c_str(), m_target.c_str()) != 0)
            fail_file(m_target, "cannot replace the file: " + errno_text());
    } else if (::renameat2(AT_FDCWD, m_temp_path.c_str(), AT_FDCWD, m_target.c_str(),
                           RENAME_NOREPLACE) != 0) {
        if (errno == EEXIST) fail_file(m_target, "already exists");
        if (errno != EINVAL && errno != ENOSYS)
            fail_file(m_target, "cannot create the file: " + errno_text());
        // No RENAME_NOREPLACE on this file system: check, then rename (we hold the lock).
        if (std::filesystem::exists(m_target)) fail_file(m_target, "already exists");
        if (::rename(m_temp_path.c_str(), m_target.c_str()) != 0)
            fail_file(m_target, "cannot create the file: " + errno_text());
    }
    m_committed = true;
    // Makes the rename durable; a failure here loses nothing already written.
    ::fsync(m_directory_fd);
}

}  // namespace qs
