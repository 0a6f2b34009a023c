// Bad input gives one-line QsErrors naming the file (or the text position), never a crash.
#include <fstream>

#include <gtest/gtest.h>

#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/sentencepiece_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

namespace {

// The message of the QsError that f throws ("" when it throws none).
template <typename F>
std::string error_of(F&& f)
{
    try {
        f();
    } catch (const qs::QsError& e) {
        return e.what();
    }
    return "";
}

void write_file(const std::string& path, const std::string& text)
{
    std::ofstream(path, std::ios::binary) << text;
}

// A minimal valid BPE tokenizer.json with the given model fields replaced.
std::string tokenizer_json(const std::string& model, const std::string& normalizer = "null")
{
    return R"({"version": "1.0", "added_tokens": [], "normalizer": )" + normalizer +
           R"(, "pre_tokenizer": null, "post_processor": null, "decoder": null, "model": )" +
           model + "}";
}

const char* kGoodModel =
    R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";

}  // namespace

TEST(TokenizerErrors, InvalidUtf8)
{
    const auto tok = qs::BpeTokenizer::from_json(tokenizer_json(kGoodModel), "t.json");
    EXPECT_EQ(tok->encode_raw("ab"), (std::vector<std::int32_t>{2}));
    EXPECT_EQ(error_of([&] { tok->encode_raw("ab\xC3("); }), "invalid UTF-8 at byte 2");
    EXPECT_EQ(error_of([&] { tok->encode_raw("\xC0\x80"); }),
              "invalid UTF-8 at byte 0");  // overlong
    EXPECT_EQ(error_of([&] { tok->encode_raw("a\xED\xA0\x80"); }),
              "invalid UTF-8 at byte 1");  // surrogate
    EXPECT_EQ(error_of([&] { tok->encode_raw("ab\xF4\x90\x80\x80"); }),
              "invalid UTF-8 at byte 2");  // > U+10FFFF
    EXPECT_EQ(error_of([&] { tok->encode_raw("abc\xE2\x82"); }),
              "invalid UTF-8 at byte 3");  // truncated
}

TEST(TokenizerErrors, InvalidUtf8ThroughSentencePiece)
{
    QS_REQUIRE_SHARED();
    const qs::SentencePieceTokenizer sp(qs::test::shared_dir() +
                                        "/models/llama2-tokenizer/tokenizer.model");
    EXPECT_EQ(error_of([&] { sp.encode_raw("x\xFF"); }), "invalid UTF-8 at byte 1");
}

TEST(TokenizerErrors, NoTokenizerFiles)
{
    qs::test::TempDir dir;
    EXPECT_EQ(error_of([&] { qs::load_tokenizer(dir.path()); }),
              dir.path() + ": no tokenizer.json or tokenizer.model");
    const std::string missing = dir.file("does-not-exist");
    EXPECT_EQ(error_of([&] { qs::load_tokenizer(missing); }),
              missing + ": no tokenizer.json or tokenizer.model");
}

TEST(TokenizerErrors, CorruptTokenizerJson)
{
    qs::test::TempDir dir;
    const std::string path = dir.file("tokenizer.json");
    const auto load_error = [&](const std::string& text) {
        write_file(path, text);
        return error_of([&] { qs::load_tokenizer(dir.path()); });
    };
    EXPECT_TRUE(load_error("{not json").starts_with(path + ": not valid JSON"))
        << load_error("{not json");
    EXPECT_EQ(load_error(tokenizer_json(R"({"type": "WordPiece", "vocab": {}})")),
              path + ": unsupported model type 'WordPiece'");
    EXPECT_EQ(
        load_error(tokenizer_json(
            R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", "a zz"]})")),
        path + ": merges entry 1 references unknown token 'zz'");
    EXPECT_EQ(load_error(tokenizer_json(
                  R"({"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]})")),
              path + ": merges entry 0 references unknown token 'ab'");
    EXPECT_EQ(load_error(tokenizer_json(kGoodModel, R"({"type": "NFKC"})")),
              path + ": unsupported normalizer type 'NFKC'");
    EXPECT_EQ(
        load_error(tokenizer_json(R"({"type": "BPE", "vocab": {"a": "zero"}, "merges": []})")),
        path + ": vocab entry 'a' has no integer id");
    const std::string bad_regex =
        R"({"version": "1.0", "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a"},
        "behavior": "Isolated", "invert": false}, "model": )" +
        std::string(kGoodModel) + "}";
    EXPECT_TRUE(load_error(bad_regex).starts_with(path + ": pre_tokenizer: bad regex '(a'"))
        << load_error(bad_regex);
}

TEST(TokenizerErrors, CorruptConfigAndModel)
{
    qs::test::TempDir dir;
    write_file(dir.file("tokenizer.json"), tokenizer_json(kGoodModel));
    write_file(dir.file("tokenizer_config.json"), "[1, 2");
    EXPECT_TRUE(error_of([&] {
                    qs::load_tokenizer(dir.path());
                }).starts_with(dir.file("tokenizer_config.json") + ": not valid JSON"));
    write_file(dir.file("tokenizer_config.json"), R"({"add_bos_token": true, "bos_token": "<s>"})");
    EXPECT_EQ(error_of([&] { qs::load_tokenizer(dir.path()); }),
              dir.file("tokenizer_config.json") + ": bos_token '<s>' is not in the vocabulary");

    qs::test::TempDir sp_dir;
    write_file(sp_dir.file("tokenizer.model"), "not a protobuf");
    EXPECT_TRUE(error_of([&] {
                    qs::load_tokenizer(sp_dir.path());
                }).starts_with(sp_dir.file("tokenizer.model") + ": not a SentencePiece model"));
}

TEST(TokenizerErrors, NfcRefusesTextItCannotNormalize)
{
    const auto tok =
        qs::BpeTokenizer::from_json(tokenizer_json(kGoodModel, R"({"type": "NFC"})"), "t.json");
    EXPECT_EQ(tok->encode_raw("ab"), (std::vector<std::int32_t>{2}));  // already NFC: passes
    EXPECT_EQ(
        error_of([&] { tok->encode_raw("ae\xCC\x81"); }),  // e + combining acute
        "NFC normalization of U+0301 (byte 2) is not supported: only text already in NFC form is");
}
