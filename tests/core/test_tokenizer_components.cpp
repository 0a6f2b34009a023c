// The pieces of the tokenizer pipeline on their own: UTF-8 helpers, HF's split behaviours,
// added-token stripping rules, Metaspace prepend schemes and decoders. Expected values follow
// the HF `tokenizers` documentation or were checked against HF `tokenizers` 0.23.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/tokenizer/added_tokens.h"
#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/sentencepiece_convert.h"
#include "core/tokenizer/decoder.h"
#include "core/tokenizer/text_split.h"
#include "core/tokenizer/utf8.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

namespace {

using Ids = std::vector<std::int32_t>;
using Json = nlohmann::json;

std::vector<std::string> pieces(std::string_view text, const std::vector<qs::ByteRange>& ranges)
{
    std::vector<std::string> out;
    for (const auto& [b, e] : ranges)
        out.emplace_back(text.substr(b, e - b));
    return out;
}

std::vector<std::string> split_dashes(qs::SplitBehavior behavior)
{
    const std::string text = "the-final--countdown";
    return pieces(text,
                  qs::split_ranges(text.size(), qs::find_literal(text, "-"), false, behavior));
}

std::string decode_with(const Json& decoder, const std::vector<std::string>& tokens)
{
    return qs::decode_tokens(qs::parse_decoder(decoder, "test").get(), tokens);
}

}  // namespace

TEST(TokenizerComponents, Utf8Helpers)
{
    EXPECT_EQ(qs::utf8_first_invalid("plain ascii"), std::string::npos);
    EXPECT_EQ(qs::utf8_first_invalid("caf\xC3\xA9 \xF0\x9F\xA6\x99"), std::string::npos);
    EXPECT_EQ(qs::utf8_first_invalid("ok\x80"), 2u);
    // from_utf8_lossy: one U+FFFD per maximal invalid prefix.
    EXPECT_EQ(qs::utf8_lossy("a\xE2\x82"
                             "b"),
              "a\xEF\xBF\xBD"
              "b");
    EXPECT_EQ(qs::utf8_lossy("\xFF\xFE"), "\xEF\xBF\xBD\xEF\xBF\xBD");
    std::string out;
    qs::utf8_append(out, U'\u2581');
    EXPECT_EQ(out, "\xE2\x96\x81");
}

TEST(TokenizerComponents, SplitBehavioursAsDocumentedByHf)
{
    using B = qs::SplitBehavior;
    using V = std::vector<std::string>;
    EXPECT_EQ(split_dashes(B::Removed), (V{"the", "final", "countdown"}));
    EXPECT_EQ(split_dashes(B::Isolated), (V{"the", "-", "final", "-", "-", "countdown"}));
    EXPECT_EQ(split_dashes(B::MergedWithPrevious), (V{"the-", "final-", "-", "countdown"}));
    EXPECT_EQ(split_dashes(B::MergedWithNext), (V{"the", "-final", "-", "-countdown"}));
    EXPECT_EQ(split_dashes(B::Contiguous), (V{"the", "-", "final", "--", "countdown"}));
    // invert: the matches are what is kept.
    const std::string text = "a1b22c";
    const std::vector<qs::ByteRange> digits = {{1, 2}, {3, 5}};
    EXPECT_EQ(pieces(text, qs::split_ranges(text.size(), digits, true, B::Removed)),
              (V{"1", "22"}));
}

TEST(TokenizerComponents, AddedTokenStripAndSingleWord)
{
    qs::AddedTokenMatcher m;
    qs::AddedToken l{"<L>", 10, true, /*lstrip*/ true, false, false, false};
    qs::AddedToken r{"<R>", 11, false, false, /*rstrip*/ true, false, false};
    qs::AddedToken w{"word", 12, false, false, false, /*single_word*/ true, true};
    qs::AddedToken eot{"<|endoftext|>", 13, true, false, false, false, false};
    qs::AddedToken prefix{"<|end", 14, false, false, false, false, false};
    for (const auto& t : {l, r, w, eot, prefix})
        m.add(t.content, t);
    const auto cut = [&](const std::string& text) {
        std::vector<std::string> out;
        for (const auto& s : m.split(text))
            out.push_back(s.id >= 0 ? "#" + std::to_string(s.id)
                                    : text.substr(s.begin, s.end - s.begin));
        return out;
    };
    using V = std::vector<std::string>;
    EXPECT_EQ(cut("x <L> y"), (V{"x", "#10", " y"}));  // lstrip takes the space before
    EXPECT_EQ(cut("x <R> y"), (V{"x ", "#11", "y"}));  // rstrip the space after
    EXPECT_EQ(cut("x  <L><R>  y"), (V{"x", "#10", "#11", "y"}));
    EXPECT_EQ(cut("a word b"), (V{"a ", "#12", " b"}));
    EXPECT_EQ(cut("awordb"), (V{"awordb"}));                  // inside a word: not a match
    EXPECT_EQ(cut("word_"), (V{"word_"}));                    // '_' is a word character (\w)
    EXPECT_EQ(cut("<|end<|endoftext|>"), (V{"#14", "#13"}));  // leftmost first, then longest
    EXPECT_EQ(cut(""), V{});
}

TEST(TokenizerComponents, MetaspacePrependSchemes)
{
    QS_REQUIRE_SHARED();
    // Llama-2's vocabulary under Metaspace pre-tokenizers instead of the Prepend normalizer.
    Json doc = Json::parse(qs::sentencepiece_to_tokenizer_json(
        qs::test::shared_dir() + "/models/llama2-tokenizer/tokenizer.model"));
    doc["normalizer"] = nullptr;
    doc["pre_tokenizer"] = {{"type", "Metaspace"},
                            {"replacement", "\xE2\x96\x81"},
                            {"prepend_scheme", "first"},
                            {"split", false}};
    auto first = qs::BpeTokenizer::from_json(doc.dump(), "first.json");
    EXPECT_EQ(first->encode_raw("Hello world"), (Ids{15043, 3186}));
    EXPECT_EQ(first->encode_raw(" Hello"), (Ids{15043}));  // already starts with ▁
    EXPECT_EQ(first->encode_raw("<s>Hello world"), (Ids{1, 10994, 3186}));  // not first: no ▁Hello
    EXPECT_EQ(first->encode_raw("Hello<s> world"), (Ids{15043, 1, 3186}));

    doc["pre_tokenizer"] = {{"type", "Metaspace"},
                            {"replacement", "\xE2\x96\x81"},
                            {"prepend_scheme", "always"},
                            {"split", true}};
    doc["decoder"] = doc["pre_tokenizer"];
    auto always = qs::BpeTokenizer::from_json(doc.dump(), "always.json");
    EXPECT_EQ(always->encode_raw("<s>Hello world"), (Ids{1, 15043, 3186}));
    EXPECT_EQ(always->decode({1, 15043, 3186}), "Hello world");
}

TEST(TokenizerComponents, Decoders)
{
    const Json byte_fallback = {{"type", "ByteFallback"}};
    EXPECT_EQ(decode_with(byte_fallback, {"a", "<0xC3>", "<0xA9>", "b"}),
              "a\xC3\xA9"
              "b");
    EXPECT_EQ(decode_with(byte_fallback, {"<0xC3>", "<0x41>"}), "\xEF\xBF\xBD\xEF\xBF\xBD");
    const Json strip = {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 1}};
    EXPECT_EQ(decode_with(strip, {"  a  "}), " a ");
    EXPECT_EQ(decode_with(nullptr, {"a", "b"}), "a b");  // no decoder: joined with spaces
    EXPECT_EQ(
        decode_with({{"type", "BPEDecoder"}, {"suffix", "</w>"}}, {"hel", "lo</w>", "you</w>"}),
        "hello you");
    EXPECT_THROW(qs::parse_decoder({{"type", "WordPiece"}}, "t.json"), qs::QsError);
}
