// The real stories260K tokenizer (SentencePiece-style BPE with byte fallback, exported to
// tokenizer.json) must reproduce llama2.c's own encoding of the reference story id for id.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/tokenizer/tokenizer.h"
#include "tests/core/test_support.h"

namespace {

std::string read_text(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

TEST(TokenizerStories, EncodesStoryLikeLlama2c)
{
    QS_REQUIRE_SHARED();
    const auto tok = qs::load_tokenizer(qs::test::stories_dir());
    const std::string story = read_text(qs::test::stories_reference("story.txt"));
    const auto expected =
        qs::test::read_raw<std::int32_t>(qs::test::stories_reference("story.tokens.i32"));
    ASSERT_EQ(expected.size(), 62u);
    const std::vector<std::int32_t> ids = tok->encode(story);
    EXPECT_EQ(ids, expected);
    EXPECT_EQ(ids.front(), 1);  // BOS
}

TEST(TokenizerStories, DecodeGivesTheTextBack)
{
    QS_REQUIRE_SHARED();
    const auto tok = qs::load_tokenizer(qs::test::stories_dir());
    const std::string story = read_text(qs::test::stories_reference("story.txt"));
    const auto ids =
        qs::test::read_raw<std::int32_t>(qs::test::stories_reference("story.tokens.i32"));
    EXPECT_EQ(tok->decode(ids), story);
    // Kept specials go through the decoder too; Strip only removes a leading space, and the
    // text then starts with "<s>" (as HF prints it).
    EXPECT_EQ(tok->decode({1, 403, 407, 261}, false), "<s> Once upon a");
}

TEST(TokenizerStories, SpecialTokensFromConfig)
{
    QS_REQUIRE_SHARED();
    const auto tok = qs::load_tokenizer(qs::test::stories_dir());
    EXPECT_EQ(tok->bos_id(), 1);
    EXPECT_EQ(tok->eos_id(), 2);
    EXPECT_TRUE(tok->adds_bos());
    EXPECT_FALSE(tok->adds_eos());
    EXPECT_EQ(tok->vocab_size(), 512);
    EXPECT_EQ(tok->encode(""), std::vector<std::int32_t>{1});
}

TEST(TokenizerStories, SpecialTokensInTextAndPrependPerPiece)
{
    QS_REQUIRE_SHARED();
    const auto tok = qs::load_tokenizer(qs::test::stories_dir());
    // "</s>" and "<s>" are cut out before normalization; the Prepend normalizer then runs on
    // each remaining piece, so "there " becomes "▁there▁" (HF: ▁H i </s> ▁there ▁ <s>).
    EXPECT_EQ(tok->encode_raw("Hi</s>there <s>"),
              (std::vector<std::int32_t>{320, 417, 2, 383, 410, 1}));
}

TEST(TokenizerStories, ByteFallbackForUnknownCharacters)
{
    QS_REQUIRE_SHARED();
    const auto tok = qs::load_tokenizer(qs::test::stories_dir());
    // The 512-piece vocabulary has no "ж": its UTF-8 bytes D0 B6 become <0xD0> <0xB6>, which
    // are ids 3 + byte. Decoding fuses the bytes back into the character (HF: ▁ <0xD0> <0xB6>).
    const auto ids = tok->encode_raw("ж");
    EXPECT_EQ(ids, (std::vector<std::int32_t>{410, 3 + 0xD0, 3 + 0xB6}));
    EXPECT_EQ(tok->decode(ids), "ж");
    // A broken byte run decodes to one U+FFFD per byte, as HF's ByteFallback decoder does.
    EXPECT_EQ(tok->decode({3 + 0xC3, 3 + 0x41}), "\xEF\xBF\xBD\xEF\xBF\xBD");
}
