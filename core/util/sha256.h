// SHA-256 (FIPS 180-4) of bytes or a file, as lowercase hex. Used to tie a session file to the
// exact config.json of its model.
#pragma once

#include <string>

namespace qs {

std::string sha256_hex(const std::string& bytes);
std::string sha256_file_hex(const std::string& path);  // throws QsError naming the file

}  // namespace qs
