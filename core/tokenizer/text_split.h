// The split step shared by HF `tokenizers` pre-tokenizers (Split, ByteLevel, Metaspace, Digits,
// Punctuation, Whitespace): a pattern finds matches in a piece of text, and a behaviour decides
// what happens to them. Conventions: ranges are [begin, end) byte offsets into one piece;
// matches are sorted, non-overlapping and non-empty.
#pragma once

#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace qs {

using ByteRange = std::pair<std::size_t, std::size_t>;

// SplitDelimiterBehavior of HF `tokenizers`.
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// Ranges of the pieces to keep, in order, empty ones dropped. `invert` swaps the roles of
// matches and the text between them, as HF's Invert pattern does.
std::vector<ByteRange> split_ranges(std::size_t text_len, const std::vector<ByteRange>& matches,
                                    bool invert, SplitBehavior behavior);

// Matches of a literal string (HF's String pattern); an empty needle matches nothing.
std::vector<ByteRange> find_literal(std::string_view text, std::string_view needle);

}  // namespace qs
