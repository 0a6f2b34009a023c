// A byte-level BPE tokenizer.json built by hand: the 256 byte symbols (id = byte value) plus a
// few merges, so every expected encoding below can be worked out on paper. The expectations were
// also checked against Hugging Face `tokenizers` 0.23 on the same file.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/tokenizer/bpe_tokenizer.h"
#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/pre_tokenizer.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

namespace {

using Ids = std::vector<std::int32_t>;
using Json = nlohmann::json;

// Merged tokens take ids 256.. in merge (rank) order.
const std::vector<std::pair<std::string, std::string>> kMerges = {
    {"Ġ", "t"},    // 256 Ġt
    {"h", "e"},    // 257 he
    {"Ġt", "he"},  // 258 Ġthe
    {"e", "r"},    // 259 er   (ranks below "h e": "her" -> he r, not h er)
    {"a", "a"},    // 260 aa
    {"'", "s"},    // 261 's
    {"1", "2"},    // 262 12
    {"Ġ", "Ġ"},    // 263 ĠĠ
    {"Ã", "©"},    // 264 é    (UTF-8 C3 A9 as byte symbols)
    {"12", "3"},   // 265 123
    {"'", "S"},    // 266 'S
};
constexpr std::int32_t kGthe = 258, kHe = 257, kAa = 260, kApS = 261, k12 = 262, kGG = 263,
                       kEacute = 264, k123 = 265, kApSUpper = 266, kEndOfText = 267;

const char* kLlama3Regex =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

Json byte_level_pre(bool add_prefix_space, bool use_regex)
{
    return {{"type", "ByteLevel"},
            {"add_prefix_space", add_prefix_space},
            {"trim_offsets", true},
            {"use_regex", use_regex}};
}

// The tokenizer.json; merges as "a b" strings (older files) or [a, b] pairs (newer).
Json make_doc(const Json& pre_tokenizer, bool pair_merges = false)
{
    Json vocab = Json::object();
    for (int b = 0; b < 256; ++b)
        vocab[qs::byte_level_symbol(static_cast<std::uint8_t>(b))] = b;
    Json merges = Json::array();
    for (const auto& [l, r] : kMerges) {
        vocab[l + r] = vocab.size();
        merges.push_back(pair_merges ? Json::array({l, r}) : Json(l + " " + r));
    }
    Json added = Json::array({{{"id", kEndOfText},
                               {"content", "<|endoftext|>"},
                               {"single_word", false},
                               {"lstrip", false},
                               {"rstrip", false},
                               {"normalized", false},
                               {"special", true}}});
    return {{"version", "1.0"},
            {"added_tokens", added},
            {"normalizer", nullptr},
            {"pre_tokenizer", pre_tokenizer},
            {"post_processor", {{"type", "ByteLevel"}, {"trim_offsets", false}}},
            {"decoder", byte_level_pre(false, true)},
            {"model",
             {{"type", "BPE"},
              {"dropout", nullptr},
              {"unk_token", nullptr},
              {"fuse_unk", false},
              {"byte_fallback", false},
              {"vocab", vocab},
              {"merges", merges}}}};
}

std::unique_ptr<qs::BpeTokenizer> make(const Json& doc)
{
    return qs::BpeTokenizer::from_json(doc.dump(), "test.json");
}

std::unique_ptr<qs::BpeTokenizer> gpt2_style(bool add_prefix_space = false)
{
    return make(make_doc(byte_level_pre(add_prefix_space, true)));
}

std::unique_ptr<qs::BpeTokenizer> llama3_style()
{
    const Json split = {{"type", "Split"},
                        {"pattern", {{"Regex", kLlama3Regex}}},
                        {"behavior", "Isolated"},
                        {"invert", false}};
    return make(make_doc(
        {{"type", "Sequence"}, {"pretokenizers", {split, byte_level_pre(false, false)}}}, true));
}

void write_file(const std::string& path, const std::string& text)
{
    std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST(BpeByteLevel, ByteSymbols)
{
    EXPECT_EQ(qs::byte_level_symbol(' '), "\xC4\xA0");   // U+0120 Ġ
    EXPECT_EQ(qs::byte_level_symbol('\n'), "\xC4\x8A");  // U+010A Ċ
    EXPECT_EQ(qs::byte_level_symbol('a'), "a");          // printable ASCII is itself
    EXPECT_EQ(qs::byte_level_symbol(0xC3), "\xC3\x83");  // Latin-1 Ã is itself
    EXPECT_EQ(qs::byte_level_symbol(0xAD),
              "\xC5\x83");  // soft hyphen: the 68th remapped byte, U+0143
    EXPECT_EQ(qs::byte_level_symbol(0x00), "\xC4\x80");  // U+0100
}

TEST(BpeByteLevel, MergePriority)
{
    const auto tok = gpt2_style();
    EXPECT_EQ(tok->encode_raw("the"), (Ids{'t', kHe}));  // no "t he" merge, only "h e"
    EXPECT_EQ(tok->encode_raw(" the"), (Ids{kGthe}));    // Ġ t -> Ġt, h e -> he, Ġt he -> Ġthe
    EXPECT_EQ(tok->encode_raw("her"), (Ids{kHe, 'r'}));  // "h e" (rank 1) beats "e r" (rank 3)
    EXPECT_EQ(tok->encode_raw("aaa"), (Ids{kAa, 'a'}));  // equal ranks: leftmost first
    EXPECT_EQ(tok->encode_raw("aaaa"), (Ids{kAa, kAa}));
    EXPECT_EQ(tok->encode_raw("1234567"),
              (Ids{k123, '4', '5', '6', '7'}));  // 1 2 -> 12, 12 3 -> 123
}

TEST(BpeByteLevel, Gpt2RegexSplits)
{
    const auto tok = gpt2_style();
    EXPECT_EQ(tok->encode_raw("it's"), (Ids{'i', 't', kApS}));  // "it" | "'s"
    EXPECT_EQ(tok->encode_raw("ab12cd"),
              (Ids{'a', 'b', k12, 'c', 'd'}));                // letters | digits | letters
    EXPECT_EQ(tok->encode_raw("!!?"), (Ids{'!', '!', '?'}));  // one punctuation run
    // \s+(?!\S): of two spaces before "y" only the first stands alone; the second joins " y",
    // so the "Ġ Ġ" merge cannot apply.
    EXPECT_EQ(tok->encode_raw("x  y"), (Ids{'x', ' ', ' ', 'y'}));
    // At the end of the text the whole run is one piece, and "Ġ Ġ" merges leftmost first.
    EXPECT_EQ(tok->encode_raw("x   "), (Ids{'x', kGG, ' '}));
    EXPECT_EQ(tok->encode_raw("a\nb"), (Ids{'a', '\n', 'b'}));
    // "'S" is not a contraction for the case-sensitive GPT-2 regex: "'" and "S" split apart.
    EXPECT_EQ(tok->encode_raw("IT'S"), (Ids{'I', 'T', '\'', 'S'}));
    EXPECT_EQ(tok->encode_raw("1212"), (Ids{k12, k12}));
}

TEST(BpeByteLevel, NonAsciiBecomesByteSymbols)
{
    const auto tok = gpt2_style();
    EXPECT_EQ(tok->encode_raw("café"),
              (Ids{'c', 'a', 'f', kEacute}));  // é = C3 A9 -> Ã © -> merged
    EXPECT_EQ(tok->encode_raw("\xF0\x9F\xA6\x99"),
              (Ids{0xF0, 0x9F, 0xA6, 0x99}));                 // 🦙, no merges
    EXPECT_EQ(tok->decode(Ids{0xF0, 0x9F}), "\xEF\xBF\xBD");  // a cut-off character
}

TEST(BpeByteLevel, AddedTokensAreCutOutFirst)
{
    const auto tok = gpt2_style();
    EXPECT_EQ(tok->encode_raw("a<|endoftext|> the"), (Ids{'a', kEndOfText, kGthe}));
    EXPECT_EQ(tok->encode_raw("<|endoftext|><|endoftext|>"), (Ids{kEndOfText, kEndOfText}));
    EXPECT_EQ(tok->decode(Ids{'a', kEndOfText, kGthe}, true), "a the");
    EXPECT_EQ(tok->decode(Ids{'a', kEndOfText, kGthe}, false), "a<|endoftext|> the");
    EXPECT_EQ(tok->token_to_id("<|endoftext|>"), kEndOfText);
    EXPECT_TRUE(tok->is_special(kEndOfText));
    EXPECT_EQ(tok->vocab_size(), kEndOfText + 1);
}

TEST(BpeByteLevel, DecodeRoundTrip)
{
    const auto tok = gpt2_style();
    for (const std::string text : {"the", " the her", "it's 1234567 ab12cd!!?", "x  y\n\nz   ",
                                   "café 🦙 naïve", "tab\there", "  leading", "IT'S", ""}) {
        EXPECT_EQ(tok->decode(tok->encode_raw(text)), text) << text;
    }
}

TEST(BpeByteLevel, AddPrefixSpace)
{
    const auto tok = gpt2_style(true);
    EXPECT_EQ(tok->encode_raw("the"), (Ids{kGthe}));   // becomes " the"
    EXPECT_EQ(tok->encode_raw(" the"), (Ids{kGthe}));  // already has one
    EXPECT_EQ(tok->decode(tok->encode_raw("the")), " the");
}

TEST(BpeByteLevel, MergesAsPairsEqualMergesAsStrings)
{
    const auto strings = make(make_doc(byte_level_pre(false, true), false));
    const auto pairs = make(make_doc(byte_level_pre(false, true), true));
    for (const std::string text : {" the", "her aaaa", "café 1234567 it's"})
        EXPECT_EQ(strings->encode_raw(text), pairs->encode_raw(text)) << text;
}

TEST(BpeByteLevel, Llama3SplitRegex)
{
    const auto tok = llama3_style();
    // \p{N}{1,3}: digits go in chunks of three, so "1212" is "121" | "2".
    EXPECT_EQ(tok->encode_raw("1212"), (Ids{k12, '1', '2'}));
    EXPECT_EQ(tok->encode_raw("1234567"), (Ids{k123, '4', '5', '6', '7'}));  // "123" | "456" | "7"
    // (?i:'s|...) makes "'S" a contraction piece, so the "' S" merge applies.
    EXPECT_EQ(tok->encode_raw("IT'S"), (Ids{'I', 'T', kApSUpper}));
    EXPECT_EQ(tok->encode_raw(" the"), (Ids{kGthe}));
    EXPECT_EQ(tok->encode_raw("a<|endoftext|> the"), (Ids{'a', kEndOfText, kGthe}));
    EXPECT_EQ(tok->decode(tok->encode_raw("x 1234567 IT'S\n\n")), "x 1234567 IT'S\n\n");
}

TEST(BpeByteLevel, BosEosFromPostProcessor)
{
    qs::test::TempDir dir;
    Json doc = make_doc(byte_level_pre(false, true));
    // Llama-3 style: the template puts a special token before the sequence -> BOS.
    Json single = Json::array();
    single.push_back({{"SpecialToken", {{"id", "<|endoftext|>"}, {"type_id", 0}}}});
    single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
    Json specials = Json::object();
    specials["<|endoftext|>"] = {{"id", "<|endoftext|>"}, {"ids", Json::array({kEndOfText})}};
    doc["post_processor"] = {
        {"type", "TemplateProcessing"}, {"single", single}, {"special_tokens", specials}};
    write_file(dir.file("tokenizer.json"), doc.dump());
    auto tok = qs::load_tokenizer(dir.path());
    EXPECT_TRUE(tok->adds_bos());
    EXPECT_FALSE(tok->adds_eos());
    EXPECT_EQ(tok->encode(" the"), (Ids{kEndOfText, kGthe}));

    // An explicit add_bos_token in tokenizer_config.json wins over the template.
    write_file(
        dir.file("tokenizer_config.json"),
        R"({"add_bos_token": false, "add_eos_token": true, "eos_token": {"content": "<|endoftext|>"}})");
    tok = qs::load_tokenizer(dir.path());
    EXPECT_EQ(tok->encode(" the"), (Ids{kGthe, kEndOfText}));

    // RobertaProcessing adds cls before and sep after.
    std::filesystem::remove(dir.file("tokenizer_config.json"));
    doc["post_processor"] = {{"type", "RobertaProcessing"},
                             {"sep", Json::array({"<|endoftext|>", kEndOfText})},
                             {"cls", Json::array({"a", static_cast<int>('a')})}};
    write_file(dir.file("tokenizer.json"), doc.dump());
    tok = qs::load_tokenizer(dir.path());
    EXPECT_EQ(tok->encode(" the"), (Ids{'a', kGthe, kEndOfText}));

    // The ByteLevel post-processor (GPT-2) adds nothing.
    doc["post_processor"] = {{"type", "ByteLevel"}, {"trim_offsets", false}};
    write_file(dir.file("tokenizer.json"), doc.dump());
    tok = qs::load_tokenizer(dir.path());
    EXPECT_FALSE(tok->adds_bos());
    EXPECT_EQ(tok->encode(" the"), (Ids{kGthe}));
}

TEST(BpeByteLevel, Gpt2FormatFilesLikeOpt)
{
    // OPT ships vocab.json + merges.txt and asks for "</s>" as BOS in tokenizer_config.json.
    qs::test::TempDir dir;
    Json vocab = make_doc(nullptr)["model"]["vocab"];
    vocab["</s>"] = kEndOfText;
    std::string merges = "#version: 0.2\n";
    for (const auto& [l, r] : kMerges)
        merges += l + " " + r + "\n";
    write_file(dir.file("vocab.json"), vocab.dump());
    write_file(dir.file("merges.txt"), merges);
    write_file(
        dir.file("tokenizer_config.json"),
        R"({"add_bos_token": true, "add_prefix_space": false, "bos_token": {"content": "</s>"}, "eos_token": "</s>"})");
    const auto tok = qs::load_tokenizer(dir.path());
    EXPECT_EQ(tok->encode("the</s> the"), (Ids{kEndOfText, 't', kHe, kEndOfText, kGthe}));
    EXPECT_EQ(tok->decode(tok->encode("it's café")), "it's café");
}

TEST(BpeByteLevel, InvalidUtf8IsAnError)
{
    const auto tok = gpt2_style();
    try {
        tok->encode_raw("ab\xFF");
        FAIL() << "no error";
    } catch (const qs::QsError& e) {
        EXPECT_STREQ(e.what(), "invalid UTF-8 at byte 2");
    }
}
