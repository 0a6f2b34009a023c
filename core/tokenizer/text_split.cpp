// Split behaviours, transcribed from NormalizedString::split of HF `tokenizers` so that the
// corner cases (adjacent matches, leading matches) come out the same; see text_split.h.
#include "core/tokenizer/text_split.h"

#include <algorithm>

namespace qs {

namespace {

struct Span {
    ByteRange range;
    bool is_match;
};

// HF's Pattern::find_matches: the whole text covered by alternating non-match / match spans.
std::vector<Span> cover(std::size_t text_len, const std::vector<ByteRange>& matches, bool invert)
{
    std::vector<Span> spans;
    if (text_len == 0) return {{{0, 0}, invert}};
    std::size_t prev = 0;
    for (const auto& m : matches) {
        if (prev != m.first) spans.push_back({{prev, m.first}, invert});
        spans.push_back({m, !invert});
        prev = m.second;
    }
    if (prev != text_len) spans.push_back({{prev, text_len}, invert});
    return spans;
}

}  // namespace

std::vector<ByteRange> split_ranges(std::size_t text_len, const std::vector<ByteRange>& matches,
                                    bool invert, SplitBehavior behavior)
{
    const std::vector<Span> spans = cover(text_len, matches, invert);
    std::vector<ByteRange> kept;
    bool previous_match = false;
    switch (behavior) {
        case SplitBehavior::Isolated:
            for (const auto& s : spans)
                kept.push_back(s.range);
            break;
        case SplitBehavior::Removed:
            for (const auto& s : spans)
                if (!s.is_match) kept.push_back(s.range);
            break;
        case SplitBehavior::Contiguous:
            for (const auto& s : spans) {
                if (s.is_match == previous_match && !kept.empty())
                    kept.back().second = s.range.second;
                else
                    kept.push_back(s.range);
                previous_match = s.is_match;
            }
            break;
        case SplitBehavior::MergedWithPrevious:
            for (const auto& s : spans) {
                if (s.is_match && !previous_match && !kept.empty())
                    kept.back().second = s.range.second;
                else
                    kept.push_back(s.range);
                previous_match = s.is_match;
            }
            break;
        case SplitBehavior::MergedWithNext:
            // HF folds from the right: a match is glued to the piece that follows it.
            for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
                if (it->is_match && !previous_match && !kept.empty())
                    kept.back().first = it->range.first;
                else
                    kept.push_back(it->range);
                previous_match = it->is_match;
            }
            std::reverse(kept.begin(), kept.end());
            break;
    }
    std::erase_if(kept, [](const ByteRange& r) { return r.first == r.second; });
    return kept;
}

std::vector<ByteRange> find_literal(std::string_view text, std::string_view needle)
{
    std::vector<ByteRange> matches;
    if (needle.empty()) return matches;
    std::size_t pos = 0;
    while ((pos = text.find(needle, pos)) != std::string_view::npos) {
        matches.emplace_back(pos, pos + needle.size());
        pos += needle.size();
    }
    return matches;
}

}  // namespace qs
