// KV-cached decoding (core/model/kv_cache.h, core/eval/cached_decoder.h): a forward run in
// chunks against the cache gives the full forward's logits (Llama family with RoPE, GQA and a
// sliding window, OPT with learned positions; fp32, bf16, fp16), greedy generation and data-free
// calibration give the tokens the uncached computation gives, and the decoder falls back to
// re-running the sequence where a cache would change the numbers.
#include <iostream>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/eval/cached_decoder.h"
#include "core/eval/generate.h"
#include "core/model/attention.h"
#include "core/model/causal_lm.h"
#include "core/model/compute_dtype.h"
#include "core/model/decoder_layer.h"
#include "core/model/kv_cache.h"
#include "core/model/random_llama.h"
#include "core/quant/calibration.h"
#include "core/util/error.h"
#include "tests/core/synthetic_checkpoint.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

// max |a - b| relative to max |b|.
double relative_diff(const torch::Tensor& a, const torch::Tensor& b)
{
    return (a - b).abs().max().item<double>() / b.abs().max().item<double>();
}

// A model folder by name, written into `dir` (stories260K is read in place).
std::string model_dir(const std::string& name, const test::TempDir& dir)
{
    if (name == "stories260K") return test::stories_dir();
    const std::string path = dir.file(name);
    if (name == "random_llama") {
        RandomLlamaSpec spec;  // GQA 4/2, planted activation outliers
        spec.hidden_size = 64;
        spec.intermediate_size = 96;
        spec.num_layers = 3;
        spec.num_heads = 4;
        spec.num_kv_heads = 2;
        spec.vocab_size = 512;
        spec.outlier_channels = 2;
        spec.seed = 7;
        write_random_llama(spec, path, /*overwrite=*/true);
        return path;
    }
    test::SyntheticCheckpoint c;
    if (name == "opt_pre_ln_project") c = test::synthetic_opt(true, 16, 71);
    if (name == "opt_post_ln") c = test::synthetic_opt(false, 32, 72);
    if (name == "mistral_window") {
        c = test::synthetic_llama_family("mistral", 2, 73);
        c.config["sliding_window"] = 6;  // shorter than the sequences below, so it masks
    }
    if (name == "qwen2_bias") c = test::synthetic_llama_family("qwen2", 2, 74);
    if (c.tensors.empty()) throw std::invalid_argument("unknown model " + name);
    c.write(path);
    return path;
}

std::unique_ptr<CausalLM> open_model(const std::string& dir, torch::ScalarType dtype)
{
    return CausalLM::open(dir, torch::kCPU, /*with_tokenizer=*/false, dtype);
}

torch::Tensor random_ids(std::int64_t batch, std::int64_t length, std::int64_t vocab,
                         std::uint64_t seed)
{
    torch::manual_seed(seed);
    return torch::randint(vocab, {batch, length}, torch::kLong);
}

// Logits [B, T, vocab] of every position, the tokens run through the layers in chunks of
// `first`, then `second`, then one at a time against a cache that starts with no capacity (so
// it also grows). positioned false: every chunk is wrongly placed at position 0.
torch::Tensor chunked_cached_logits(const CausalLM& model, const torch::Tensor& ids,
                                    std::int64_t first, std::int64_t second, bool positioned = true)
{
    torch::NoGradGuard no_grad;
    KvCache cache(model.num_layers(), 0);
    std::vector<LayerWeights> layers;
    for (int i = 0; i < model.num_layers(); ++i)
        layers.push_back(model.load_layer(i));
    const auto head = model.load_head();
    std::vector<torch::Tensor> parts;
    for (std::int64_t start = 0; start < ids.size(1);) {
        const auto n = std::min(start == 0       ? first
                                : start == first ? second
                                                 : 1,
                                ids.size(1) - start);
        EXPECT_EQ(cache.length(), start);
        const auto position = positioned ? start : 0;
        auto hidden = model.embed(ids.slice(1, start, start + n), position);
        const auto context = make_layer_context(model.config(), n, model.device(), position);
        for (int i = 0; i < model.num_layers(); ++i)
            hidden = decoder_layer_forward(model.config(), layers[std::size_t(i)], hidden, context,
                                           &cache.layers[std::size_t(i)]);
        parts.push_back(model.head(hidden, head));
        start += n;
    }
    return torch::cat(parts, 1);
}

TEST(KvCache, AppendReturnsEverythingCachedAndGrows)
{
    LayerKvCache cache;
    torch::manual_seed(1);
    const auto k = torch::randn({2, 3, 7, 4}), v = torch::randn({2, 3, 7, 4});
    auto [k1, v1] = cache.append(k.slice(2, 0, 5), v.slice(2, 0, 5));
    EXPECT_EQ(cache.length(), 5);
    EXPECT_TRUE(torch::equal(k1, k.slice(2, 0, 5)));
    const auto bytes = cache.bytes();
    for (std::int64_t t = 5; t < 7; ++t) {
        auto [kt, vt] = cache.append(k.slice(2, t, t + 1), v.slice(2, t, t + 1));
        EXPECT_TRUE(torch::equal(kt, k.slice(2, 0, t + 1)));
        EXPECT_TRUE(torch::equal(vt, v.slice(2, 0, t + 1)));
    }
    EXPECT_EQ(cache.length(), 7);
    EXPECT_EQ(cache.bytes(), 2 * bytes) << "storage doubles when full";
    EXPECT_THROW(cache.append(torch::randn({1, 3, 1, 4}), torch::randn({1, 3, 1, 4})), QsError);
    EXPECT_THROW(cache.append(torch::randn({2, 3, 1, 4}), torch::randn({2, 3, 2, 4})), QsError);
}

TEST(KvCache, AttentionOfLastQueriesEqualsTheFullRows)
{
    // GQA (8 query heads on 2 kv heads), with and without a sliding window: the last 3 queries
    // against all 11 keys are the last 3 rows of the full causal attention.
    torch::manual_seed(2);
    const auto q = torch::randn({2, 8, 11, 16}), k = torch::randn({2, 2, 11, 16}),
               v = torch::randn({2, 2, 11, 16});
    for (std::optional<std::int64_t> window : {std::optional<std::int64_t>(), {4}}) {
        const auto full = causal_attention(q, k, v, 0.25, window).slice(1, 8, 11);
        const auto last = causal_attention(q.slice(2, 8, 11), k, v, 0.25, window);
        EXPECT_LT(relative_diff(last, full), 1e-6) << test::describe_max_diff(full, last);
    }
    // The offset places the queries: the first of them (position 8) never sees keys 9 and 10,
    // the last (position 10) does.
    auto k2 = k.clone();
    k2.slice(2, 9, 11).fill_(9.0);
    const auto before = causal_attention(q.slice(2, 8, 11), k, v, 0.25);
    const auto after = causal_attention(q.slice(2, 8, 11), k2, v, 0.25);
    EXPECT_TRUE(torch::equal(before.select(1, 0), after.select(1, 0)));
    EXPECT_FALSE(torch::equal(before.select(1, 2), after.select(1, 2)));
    EXPECT_THROW(causal_attention(q, k.slice(2, 0, 5), v.slice(2, 0, 5), 0.25), QsError);
}

struct CachedCase {
    const char* model;
    torch::ScalarType dtype;
};

class KvCacheForward : public ::testing::TestWithParam<CachedCase> {};

// fp32: within 1e-5 of the logits' scale (the new tokens' products run on other matrix shapes,
// so sums round in another order). bf16 and fp16 round every product and hidden state to 8 or
// 11 bits, so one unit of difference anywhere carries through the layers to the logits, as it
// does between two fp32 GEMM libraries; there the bound is what the precision itself costs: the
// cached logits are no further from the fp32 forward's than the full forward's are, and no
// further from the full forward's than twice that.
TEST_P(KvCacheForward, ChunkedCachedLogitsEqualTheFullForward)
{
    const auto& p = GetParam();
    if (std::string(p.model) == "stories260K") QS_REQUIRE_SHARED();
    test::TempDir dir;
    const auto path = model_dir(p.model, dir);
    const auto model = open_model(path, p.dtype);
    const auto ids = random_ids(2, 40, model->config().vocab_size, 75);
    const auto full = model->forward(ids);
    const auto cached = chunked_cached_logits(*model, ids, 5, 4);
    ASSERT_EQ(cached.sizes(), full.sizes());
    const double diff = relative_diff(cached, full);
    double bound = 1e-5;
    if (p.dtype != torch::kFloat32) {
        const auto fp32 = open_model(path, torch::kFloat32)->forward(ids);
        const double precision_error = relative_diff(full, fp32);
        const double cached_error = relative_diff(cached, fp32);
        std::cout << p.model << " " << compute_dtype_name(p.dtype)
                  << ": |full - fp32| = " << precision_error
                  << ", |cached - fp32| = " << cached_error << " (relative to max |logit|)\n";
        EXPECT_LT(cached_error, 1.25 * precision_error);
        bound = 2 * precision_error;
    }
    std::cout << p.model << " " << compute_dtype_name(p.dtype)
              << ": max |cached - full| / max |full| = " << diff << " (bound " << bound << ")\n";
    EXPECT_LT(diff, bound) << test::describe_max_diff(full, cached);
    // The bound means something: the new tokens placed at position 0 instead of after the
    // cached ones (RoPE tables / OPT position rows without the offset) are far outside it.
    const auto unplaced = chunked_cached_logits(*model, ids, 5, 4, /*positioned=*/false);
    EXPECT_GT(relative_diff(unplaced, full), 5 * bound);
}

INSTANTIATE_TEST_SUITE_P(KvCache, KvCacheForward,
                         ::testing::Values(CachedCase{"stories260K", torch::kFloat32},
                                           CachedCase{"random_llama", torch::kFloat32},
                                           CachedCase{"opt_pre_ln_project", torch::kFloat32},
                                           CachedCase{"opt_post_ln", torch::kFloat32},
                                           CachedCase{"mistral_window", torch::kFloat32},
                                           CachedCase{"qwen2_bias", torch::kFloat32},
                                           CachedCase{"stories260K", torch::kBFloat16},
                                           CachedCase{"random_llama", torch::kBFloat16},
                                           CachedCase{"opt_pre_ln_project", torch::kBFloat16},
                                           CachedCase{"mistral_window", torch::kBFloat16},
                                           CachedCase{"stories260K", torch::kHalf},
                                           CachedCase{"opt_post_ln", torch::kHalf}),
                         [](const auto& info) {
                             return std::string(info.param.model) + "_" +
                                    compute_dtype_name(info.param.dtype);
                         });

// Logits [B, vocab] of the last position, the whole sequence run through the layers without a
// cache: what generation and data-free calibration computed every step before the cache.
torch::Tensor recomputed_last_logits(const CausalLM& model, const torch::Tensor& ids)
{
    torch::NoGradGuard no_grad;
    auto hidden = model.embed(ids);
    const auto context = make_layer_context(model.config(), ids.size(1), model.device());
    for (int layer = 0; layer < model.num_layers(); ++layer)
        hidden = decoder_layer_forward(model.config(), model.load_layer(layer), hidden, context);
    return model.head(hidden.slice(1, -1), model.load_head()).squeeze(1);
}

// Greedy generation: the cached decoder picks the tokens the uncached one (the whole sequence
// re-run every step, the computation before the cache) picks.
std::vector<std::int32_t> greedy(const CausalLM& model, std::int64_t tokens, bool kv_cache)
{
    GenerateOptions options;
    options.max_new_tokens = tokens;
    options.stop_at_eos = false;
    options.kv_cache = kv_cache;
    return generate_greedy(model, {1, 43, 41, 26}, options);
}

TEST(KvCacheGenerate, StoriesGreedyTokensEqualTheUncachedOnes)
{
    QS_REQUIRE_SHARED();
    const auto model = open_model(test::stories_dir(), torch::kFloat32);
    const auto cached = greedy(*model, 200, true);
    EXPECT_EQ(cached.size(), 200u);
    EXPECT_EQ(cached, greedy(*model, 200, false));
}

TEST(KvCacheGenerate, RandomModelsGreedyTokensEqualTheUncachedOnes)
{
    test::TempDir dir;
    for (const char* name : {"random_llama", "opt_pre_ln_project", "mistral_window"}) {
        const auto model = open_model(model_dir(name, dir), torch::kFloat32);
        EXPECT_EQ(greedy(*model, 40, true), greedy(*model, 40, false)) << name;
    }
}

TEST(KvCacheGenerate, StopsAtTheContextLikeTheUncachedPath)
{
    // synthetic OPT has 64 positions: a 4-token prompt leaves room for 60 new tokens.
    test::TempDir dir;
    const auto model = open_model(model_dir("opt_post_ln", dir), torch::kFloat32);
    const auto cached = greedy(*model, 100, true);
    EXPECT_EQ(cached.size(), 60u);
    EXPECT_EQ(cached, greedy(*model, 100, false));
}

TEST(KvCacheDecoder, StreamedLayersAndTheFallbackGiveTheSameLogits)
{
    QS_REQUIRE_SHARED();
    const auto model = open_model(test::stories_dir(), torch::kFloat32);
    DecoderOptions streamed;
    streamed.resident_layers_bytes = 0;
    DecoderOptions over_budget;
    over_budget.cache_budget_bytes = 1024;
    CachedDecoder resident_decoder(*model, 3, 12);
    CachedDecoder streamed_decoder(*model, 3, 12, streamed);
    CachedDecoder fallback_decoder(*model, 3, 12, over_budget);
    EXPECT_TRUE(resident_decoder.layers_resident() && resident_decoder.uses_kv_cache());
    EXPECT_FALSE(streamed_decoder.layers_resident());
    EXPECT_TRUE(streamed_decoder.uses_kv_cache());
    EXPECT_FALSE(fallback_decoder.uses_kv_cache()) << "a cache over the budget falls back";
    auto ids = random_ids(3, 12, model->config().vocab_size, 76);
    const auto full = model->forward(ids);
    for (std::int64_t t = 0; t < 12; t += t == 0 ? 4 : 1) {
        const auto n = t == 0 ? 4 : 1;
        const auto step = ids.slice(1, t, t + n);
        const auto a = resident_decoder.step(step);
        EXPECT_TRUE(torch::equal(a, streamed_decoder.step(step)));
        EXPECT_LT(relative_diff(a, full.select(1, t + n - 1)), 1e-5) << "step at " << t;
        EXPECT_TRUE(torch::equal(fallback_decoder.step(step),
                                 recomputed_last_logits(*model, ids.slice(1, 0, t + n))))
            << "the fallback is the uncached computation, bit for bit";
    }
    EXPECT_EQ(resident_decoder.length(), 12);
}

// The computation data-free calibration ran before the cache: every step re-runs all samples'
// whole windows and samples the next tokens from the last position's softmax.
torch::Tensor recomputed_data_free_windows(const CausalLM& model, std::int64_t samples,
                                           std::int64_t seqlen, std::uint64_t seed)
{
    auto ids = torch::full({samples, 1}, model.tokenizer().bos_id(), torch::kLong);
    auto generator = at::detail::createCPUGenerator(seed);
    for (std::int64_t t = 1; t < seqlen; ++t) {
        auto probs = torch::softmax(recomputed_last_logits(model, ids), -1);
        ids = torch::cat({ids, torch::multinomial(probs, 1, false, generator)}, 1);
    }
    return ids;
}

TEST(KvCacheCalibration, DataFreeWindowsEqualTheRecomputedOnes)
{
    QS_REQUIRE_SHARED();
    const auto model = CausalLM::open(test::stories_dir(), torch::kCPU, true);
    CalibrationSettings settings;
    settings.dataset = "";
    settings.samples = 6;
    settings.seqlen = 96;
    settings.seed = 3;
    const auto windows = calibration_windows(*model, settings);
    ASSERT_EQ(windows.sizes(), (std::vector<std::int64_t>{6, 96}));
    const auto expected = recomputed_data_free_windows(*model, 6, 96, 3);
    EXPECT_TRUE(torch::equal(windows, expected))
        << (windows != expected).sum().item<std::int64_t>() << " of 576 tokens differ";
    // The samples are not copies of one another (each draws its own tokens).
    EXPECT_FALSE(torch::equal(windows[0], windows[1]));
}

// Activations fake-quantized with one dynamic scale per tensor couple every token of a forward:
// the decoder re-runs the sequence instead of caching. Per-token scales keep the cache.
TEST(KvCacheDecoder, PerTensorDynamicActivationsFallBackToRecomputing)
{
    test::TempDir dir;
    for (const char* format : {"int8-tensor", "fp8-e4m3-tensor", "int8-token"}) {
        auto c = test::synthetic_llama_family("llama", 2, 77);
        c.config["quantization_config"] = {{"activations", format}};
        const auto model = c.open(dir.file(format));
        const bool per_token = std::string(format) == "int8-token";
        EXPECT_EQ(CachedDecoder(*model, 1, 8).uses_kv_cache(), per_token) << format;
        EXPECT_EQ(greedy(*model, 24, true), greedy(*model, 24, false)) << format;
        if (per_token) continue;
        // Why: the same layers run in chunks against a cache quantize the new tokens with
        // their own scale, and the logits move well past the fp32 bound.
        const auto ids = random_ids(1, 16, test::kVocab, 78);
        EXPECT_GT(relative_diff(chunked_cached_logits(*model, ids, 5, 4), model->forward(ids)),
                  1e-3)
            << format;
    }
}

}  // namespace
}  // namespace qs
