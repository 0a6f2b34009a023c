// Meta's Llama-2 tokenizer.model three ways: libsentencepiece itself (the reference, through the
// shim), our native engine (SentencePieceTokenizer::Engine::Native), and the tokenizer.json that
// transformers' LlamaConverter would write, run by our BPE engine. All must agree id for id: that
// checks the BPE merge loop, byte fallback and the SentencePiece-style normalizer against an
// independent implementation.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/sentencepiece_convert.h"
#include "core/tokenizer/sentencepiece_library.h"
#include "core/tokenizer/sentencepiece_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/core/test_support.h"

namespace {

using Ids = std::vector<std::int32_t>;

std::string llama2_model()
{
    return qs::test::shared_dir() + "/models/llama2-tokenizer/tokenizer.model";
}

// libsentencepiece itself, through the shim.
const qs::SentencePieceModel& reference()
{
    static const qs::SentencePieceModel sp(llama2_model());
    return sp;
}

Ids reference_encode(const std::string& text)
{
    const std::vector<int> ids = reference().encode(text);
    return {ids.begin(), ids.end()};
}

std::string reference_decode(const Ids& ids)
{
    return reference().decode({ids.begin(), ids.end()});
}

// Converting 32000 pieces takes a fraction of a second; do it once for the suite.
const qs::BpeTokenizer& hf_converted()
{
    static const auto tok = qs::BpeTokenizer::from_json(
        qs::sentencepiece_to_tokenizer_json(llama2_model()), llama2_model());
    return *tok;
}

const qs::SentencePieceTokenizer& native()
{
    static const qs::SentencePieceTokenizer tok(llama2_model(),
                                                qs::SentencePieceTokenizer::Engine::Native);
    return tok;
}

const qs::SentencePieceTokenizer& library()
{
    static const qs::SentencePieceTokenizer tok(
        llama2_model(), qs::SentencePieceTokenizer::Engine::LibSentencePiece);
    return tok;
}

const std::vector<std::string> kSentences = {
    "Hello world",
    "naïve café",
    "I \xE2\x9D\xA4\xEF\xB8\x8F \xF0\x9F\xA6\x99 emoji "
    "\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
    "digits 1234567 and 3.14159, 2024-01-31",
    "multiple   spaces,  two\n\nnewlines\tand a tab",
    " leading space",
    "trailing spaces  ",
    "日本語のテキスト",
    "Ünïcödé ÀÉÎÕÜ ß ø Ωμέγα Привет",
    "The quick brown fox jumps over the lazy dog.",
    "",
};

}  // namespace

TEST(SentencePieceTokenizer, HelloWorldThroughLibSentencePiece)
{
    QS_REQUIRE_SHARED();
    EXPECT_EQ(reference_encode("Hello world"), (Ids{15043, 3186}));
    EXPECT_EQ(library().engine(), qs::SentencePieceTokenizer::Engine::LibSentencePiece);
    EXPECT_EQ(library().encode_raw("Hello world"), (Ids{15043, 3186}));
    EXPECT_EQ(library().decode({1, 15043, 3186, 2}), "Hello world");
    EXPECT_EQ(library().decode({1, 15043, 3186}, false), "<s>Hello world");
    EXPECT_EQ(library().token_to_id("<s>"), 1);
    EXPECT_EQ(library().token_to_id("no such piece"), std::nullopt);
    EXPECT_EQ(native().encode_raw("Hello world"), (Ids{15043, 3186}));
    EXPECT_EQ(native().vocab_size(), 32000);
    EXPECT_EQ(native().model_bos_id(), 1);
    EXPECT_EQ(native().model_eos_id(), 2);
    EXPECT_EQ(native().decode({1, 15043, 3186, 2}), "Hello world");
}

TEST(SentencePieceTokenizer, LoadWithOnlyTokenizerModelAddsBos)
{
    QS_REQUIRE_SHARED();
    qs::test::TempDir dir;
    std::filesystem::create_symlink(llama2_model(), dir.file("tokenizer.model"));
    auto tok = qs::load_tokenizer(dir.path());
    EXPECT_EQ(dynamic_cast<const qs::SentencePieceTokenizer&>(*tok).engine(),
              qs::SentencePieceTokenizer::Engine::LibSentencePiece);
    EXPECT_EQ(tok->encode("Hello world"), (Ids{1, 15043, 3186}));
    EXPECT_EQ(tok->bos_id(), 1);
    EXPECT_EQ(tok->eos_id(), 2);

    std::ofstream(dir.file("tokenizer_config.json"))
        << R"({"add_bos_token": false, "add_eos_token": true})";
    tok = qs::load_tokenizer(dir.path());
    EXPECT_EQ(tok->encode("Hello world"), (Ids{15043, 3186, 2}));
}

TEST(SentencePieceTokenizer, ModelFileAndConvertedMerges)
{
    QS_REQUIRE_SHARED();
    const qs::SentencePieceModelProto model = qs::read_sentencepiece_proto(llama2_model());
    ASSERT_EQ(model.pieces.size(), 32000u);
    EXPECT_EQ(model.model_type, 2);
    EXPECT_EQ(model.bos_id, 1);
    EXPECT_EQ(model.eos_id, 2);
    EXPECT_EQ(model.pad_id, -1);
    EXPECT_TRUE(model.add_dummy_prefix);
    EXPECT_FALSE(model.remove_extra_whitespaces);
    EXPECT_EQ(model.pieces[1].type, qs::SentencePieceType::Control);
    EXPECT_EQ(model.pieces[0x41 + 3].type, qs::SentencePieceType::Byte);
    const auto merges = qs::sentencepiece_merges(model.pieces);
    // The first merges of the Llama-2 tokenizer.json published with the model.
    const std::vector<std::pair<std::string, std::string>> first = {
        {"\xE2\x96\x81", "t"}, {"e", "r"}, {"i", "n"}, {"\xE2\x96\x81", "a"}, {"e", "n"}};
    ASSERT_GT(merges.size(), first.size());
    EXPECT_EQ(std::vector(merges.begin(), merges.begin() + 5), first);
}

TEST(SentencePieceTokenizer, OurBpeMatchesLibSentencePiece)
{
    QS_REQUIRE_SHARED();
    for (const std::string& text : kSentences) {
        const Ids expected = reference_encode(text);
        EXPECT_EQ(library().encode_raw(text), expected) << text;
        EXPECT_EQ(native().encode_raw(text), expected) << text;
        EXPECT_EQ(hf_converted().encode_raw(text), expected) << text;
        EXPECT_EQ(library().decode(expected), reference_decode(expected)) << text;
        EXPECT_EQ(native().decode(expected), reference_decode(expected)) << text;
        EXPECT_EQ(hf_converted().decode(expected), reference_decode(expected)) << text;
    }
}

TEST(SentencePieceTokenizer, ControlTokensInTextDifferByFlavor)
{
    QS_REQUIRE_SHARED();
    // libsentencepiece reads "<s>" in the text as three characters; HF's fast tokenizer (and the
    // LlamaConverter flavor) as the BOS token, after which the Prepend normalizer gives the rest
    // its own "▁" (HF: <s> ▁Hello).
    EXPECT_EQ(native().encode_raw("<s>Hello"), reference_encode("<s>Hello"));
    EXPECT_EQ(native().encode_raw("<s>Hello"), (Ids{529, 29879, 29958, 10994}));
    EXPECT_EQ(hf_converted().encode_raw("<s>Hello"), (Ids{1, 15043}));
}

TEST(SentencePieceTokenizer, OurBpeMatchesLibSentencePieceOnWikiText)
{
    QS_REQUIRE_SHARED();
    std::ifstream in(qs::test::shared_dir() + "/data/wikitext-2-raw/wiki.test.raw");
    ASSERT_TRUE(in.good());
    std::string line;
    int compared = 0;
    while (compared < 500 && std::getline(in, line)) {
        if (line.empty()) continue;
        const Ids expected = reference_encode(line);
        ASSERT_EQ(native().encode_raw(line), expected) << "line: " << line;
        ASSERT_EQ(hf_converted().encode_raw(line), expected) << "line: " << line;
        ++compared;
    }
    EXPECT_EQ(compared, 500);
}
