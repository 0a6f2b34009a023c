#include "core/util/partial_directory.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/util/atomic_file.h"
#include "core/util/error.h"

namespace fs = std::filesystem;

namespace qs {

PartialDirectory::PartialDirectory(const std::string& target) : m_target(target)
{
    std::error_code ec;
    const fs::path parent = fs::path(target).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    std::string pattern = target + ".partial-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (!::mkdtemp(buf.data()))
        fail_file(target, std::string("cannot create output directory: ") + std::strerror(errno));
    m_path = buf.data();
    // mkdtemp makes the folder 0700; the finished checkpoint gets the usual folder mode.
    const unsigned file_mode = default_file_mode();
    fs::permissions(m_path, static_cast<fs::perms>(file_mode | ((file_mode & 0444) >> 2)), ec);
}

PartialDirectory::~PartialDirectory()
{
    std::error_code ec;
    if (!m_path.empty()) fs::remove_all(m_path, ec);
}

void PartialDirectory::commit(bool replace)
{
    std::error_code ec;
    if (fs::exists(m_target, ec)) {
        if (!replace) fail_file(m_target, "already exists (use --force to replace it)");
        fs::remove_all(m_target, ec);
        if (ec) fail_file(m_target, "cannot replace: " + ec.message());
    }
    fs::rename(m_path, m_target, ec);
    if (ec) fail_file(m_target, "cannot move the finished folder into place: " + ec.message());
    m_path.clear();
}

}  // namespace qs
