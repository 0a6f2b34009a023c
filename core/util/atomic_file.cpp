// Atomic write: mkstemp in the target's directory (rename is atomic only within one file
// system), write through an ofstream, fsync through the mkstemp descriptor, rename. A guard
// object owns the temporary file until the rename succeeds, so every failure path -- including
// an exception thrown by the caller's writer -- closes and removes it.
#include "core/util/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include "core/util/error.h"

namespace qs {

namespace {

std::string errno_text()
{
    return std::strerror(errno);
}

// Owns "<path>.tmp-XXXXXX" and its descriptor until commit().
class TempFile {
public:
    explicit TempFile(const std::string& target)
    {
        std::string pattern = target + ".tmp-XXXXXX";
        std::vector<char> buf(pattern.begin(), pattern.end());
        buf.push_back('\0');
        m_fd = ::mkstemp(buf.data());
        if (m_fd < 0) fail_file(target, "cannot create temporary file: " + errno_text());
        m_path = buf.data();
    }
    ~TempFile()
    {
        close_fd();
        if (!m_committed) ::unlink(m_path.c_str());
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;

    int fd() const { return m_fd; }
    const std::string& path() const { return m_path; }
    void close_fd()
    {
        if (m_fd >= 0) ::close(m_fd);
        m_fd = -1;
    }
    void commit() { m_committed = true; }

private:
    std::string m_path;
    int m_fd = -1;
    bool m_committed = false;
};

mode_t target_mode(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
    return default_file_mode();
}

// Makes the rename itself durable; best effort, a failure here loses nothing already written.
void sync_parent_directory(const std::string& path)
{
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    ::fsync(fd);
    ::close(fd);
}

}  // namespace

unsigned default_file_mode()
{
    mode_t mask = 022;
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("Umask:", 0) == 0) {
            mask = static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
            break;
        }
    }
    return 0666 & ~mask;
}

void write_file_atomically(const std::string& path, const std::function<void(std::ostream&)>& write)
{
    TempFile tmp(path);
    {
        std::ofstream out(tmp.path(), std::ios::binary | std::ios::trunc);
        if (!out) fail_file(path, "cannot open temporary file " + tmp.path());
        try {
            write(out);
        } catch (const QsError&) {
            throw;
        } catch (const std::exception& e) {
            fail_file(path, std::string("write failed: ") + e.what());
        }
        out.flush();
        if (!out) fail_file(path, "write failed: " + errno_text());
        out.close();
        if (out.fail()) fail_file(path, "write failed on close: " + errno_text());
    }
    if (::fchmod(tmp.fd(), target_mode(path)) != 0)
        fail_file(path, "cannot set permissions: " + errno_text());
    if (::fsync(tmp.fd()) != 0) fail_file(path, "fsync failed: " + errno_text());
    tmp.close_fd();
    if (::rename(tmp.path().c_str(), path.c_str()) != 0)
        fail_file(path, "cannot replace file: " + errno_text());
    tmp.commit();
    sync_parent_directory(path);
}

}  // namespace qs
