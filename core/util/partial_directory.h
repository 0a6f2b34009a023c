// A directory written in place of `target` and renamed onto it only when complete: a crash,
// a cancel or an exception leaves no half-written folder under the target name (the staging
// folder "<target>.partial-XXXXXX" is removed by the destructor unless commit() ran).
#pragma once

#include <string>

namespace qs {

class PartialDirectory {
public:
    // Creates the staging folder beside target (and target's parent folders). Throws QsError.
    explicit PartialDirectory(const std::string& target);
    ~PartialDirectory();
    PartialDirectory(const PartialDirectory&) = delete;
    PartialDirectory& operator=(const PartialDirectory&) = delete;

    const std::string& path() const { return m_path; }
    // Renames the staging folder onto target; an existing target is removed first when
    // replace is true (otherwise that is an error naming the target).
    void commit(bool replace);

private:
    std::string m_target;
    std::string m_path;
};

}  // namespace qs
