// Helpers shared by core tests: where ../shared is, reading raw little-endian arrays.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace qs::test {

inline std::string shared_dir()
{
    if (const char* env = std::getenv("QS_SHARED")) return env;
    return QS_SHARED_DEFAULT;
}

inline std::string stories_dir()
{
    return shared_dir() + "/models/stories260K/hf";
}
inline std::string stories_reference(const std::string& file)
{
    return shared_dir() + "/models/stories260K/reference/" + file;
}

// Skips the calling test when ../shared is absent (a checkout without data).
#define QS_REQUIRE_SHARED()                                                          \
    do {                                                                             \
        if (!std::filesystem::exists(::qs::test::shared_dir() + "/README.md"))       \
            GTEST_SKIP() << "shared data not found at " << ::qs::test::shared_dir(); \
    } while (0)

template <typename T>
std::vector<T> read_raw(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    EXPECT_TRUE(in.good()) << "cannot open " << path;
    in.seekg(0, std::ios::end);
    auto bytes = static_cast<std::size_t>(in.tellg());
    in.seekg(0);
    std::vector<T> values(bytes / sizeof(T));
    in.read(reinterpret_cast<char*>(values.data()),
            static_cast<std::streamsize>(values.size() * sizeof(T)));
    return values;
}

// A fresh temporary directory removed at scope exit.
class TempDir {
public:
    TempDir()
    {
        std::string pattern = (std::filesystem::temp_directory_path() / "qs-test-XXXXXX").string();
        std::vector<char> buf(pattern.begin(), pattern.end());
        buf.push_back('\0');
        m_path = ::mkdtemp(buf.data());
    }
    ~TempDir() { std::filesystem::remove_all(m_path); }
    const std::string& path() const { return m_path; }
    std::string file(const std::string& name) const { return m_path + "/" + name; }

private:
    std::string m_path;
};

}  // namespace qs::test
