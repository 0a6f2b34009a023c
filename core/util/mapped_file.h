// Read-only memory map of a whole file (RAII). Pages are touched only when read, so mapping a
// multi-gigabyte checkpoint costs address space, not resident memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace qs {

class MappedFile {
public:
    explicit MappedFile(const std::string& path);  // throws QsError naming the path
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::uint8_t* data() const { return m_data; }
    std::size_t size() const { return m_size; }
    const std::string& path() const { return m_path; }

    // Tell the kernel the byte range will not be needed soon (drops clean pages from RSS).
    void release_range(std::size_t offset, std::size_t length) const;

private:
    std::string m_path;
    const std::uint8_t* m_data = nullptr;
    std::size_t m_size = 0;
};

}  // namespace qs
