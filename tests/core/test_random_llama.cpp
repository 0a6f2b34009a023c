// Random-initialised Llama folders (core/model/random_llama.h): they open as real checkpoints,
// the planted outliers are where the spec says, and a failed write leaves nothing behind.
#include <filesystem>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model/causal_lm.h"
#include "core/model/random_llama.h"
#include "core/util/error.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

qs::RandomLlamaSpec small_spec()
{
    qs::RandomLlamaSpec spec;
    spec.hidden_size = 64;
    spec.intermediate_size = 96;
    spec.num_layers = 3;
    spec.num_heads = 4;
    spec.num_kv_heads = 2;
    spec.vocab_size = 512;
    spec.outlier_channels = 2;
    spec.outlier_gain = 30;
    spec.weight_outlier_columns = 3;
    spec.weight_outlier_scale = 10;
    return spec;
}

struct TempDir {
    fs::path path = fs::temp_directory_path() /
                    ("qs-random-llama-" + std::to_string(::getpid()) + "-" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    TempDir() { fs::remove_all(path); }
    ~TempDir() { fs::remove_all(path); }
};

}  // namespace

TEST(RandomLlama, OpensWithPlantedOutliers)
{
    TempDir tmp;
    const std::string dir = (tmp.path / "model").string();
    auto spec = small_spec();
    qs::write_random_llama(spec, dir, false);
    EXPECT_EQ(fs::status(dir).permissions() & fs::perms::others_read, fs::perms::others_read);
    auto model = qs::CausalLM::open(dir, torch::kCPU, /*with_tokenizer=*/false);
    ASSERT_EQ(model->num_layers(), 3);
    EXPECT_EQ(model->config().hidden_size, 64);

    // Layer gains grow with depth and reach outlier_gain in the last layer.
    std::vector<double> gains;
    for (int i = 0; i < 3; ++i) {
        auto layer = model->load_layer(i);
        auto norm = layer.get("input_layernorm.weight");
        auto sorted = std::get<0>(norm.sort(0, /*descending=*/true));
        EXPECT_GT(sorted[1].item<double>(), 1.5) << "layer " << i;
        EXPECT_DOUBLE_EQ(sorted[2].item<double>(), 1.0) << "exactly two planted channels";
        gains.push_back(sorted[0].item<double>());
        // down_proj: three columns ten times the typical scale.
        auto col_std = layer.get("mlp.down_proj.weight").std(0);
        auto top = std::get<0>(col_std.sort(0, true));
        EXPECT_GT(top[2].item<double>() / col_std.median().item<double>(), 5);
        EXPECT_LT(top[3].item<double>() / col_std.median().item<double>(), 2);
    }
    EXPECT_LT(gains[0], gains[1]);
    EXPECT_NEAR(gains[2], 30.0, 1e-4);

    auto logits = model->forward(torch::arange(8, torch::kLong).unsqueeze(0));
    EXPECT_EQ(logits.sizes(), (std::vector<std::int64_t>{1, 8, 512}));
    EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
}

TEST(RandomLlama, HalfPrecisionAndTokenizerCopy)
{
    QS_REQUIRE_SHARED();
    TempDir tmp;
    const std::string dir = (tmp.path / "model").string();
    auto spec = small_spec();
    spec.dtype = qs::DType::BF16;
    spec.tokenizer_from = qs::test::stories_dir();
    qs::write_random_llama(spec, dir, false);
    EXPECT_TRUE(fs::exists(dir + "/tokenizer.json"));
    auto model = qs::CausalLM::open(dir);
    EXPECT_EQ(model->store().info("model.layers.0.self_attn.q_proj.weight").dtype, qs::DType::BF16);
    EXPECT_FALSE(model->tokenizer().encode("Once upon a time").empty());
}

TEST(RandomLlama, RefusesExistingModelAndBadSpecsLeaveNothing)
{
    TempDir tmp;
    const std::string dir = (tmp.path / "model").string();
    qs::write_random_llama(small_spec(), dir, false);
    try {
        qs::write_random_llama(small_spec(), dir, false);
        FAIL() << "an existing model was overwritten";
    } catch (const qs::QsError& e) {
        EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
    }
    auto bad = small_spec();
    bad.num_heads = 5;  // 64 is not divisible by 5
    EXPECT_THROW(qs::write_random_llama(bad, (tmp.path / "bad").string(), false), qs::QsError);
    bad = small_spec();
    bad.tokenizer_from = (tmp.path / "no-such-folder").string();
    EXPECT_THROW(qs::write_random_llama(bad, (tmp.path / "bad").string(), false), qs::QsError);
    for (const auto& entry : fs::directory_iterator(tmp.path))
        EXPECT_EQ(entry.path().filename(), "model") << "left behind: " << entry.path();
    EXPECT_THROW(qs::random_llama_preset("gpt-5"), qs::QsError);
    EXPECT_EQ(qs::random_llama_preset("llama-2-7b").intermediate_size, 11008);
}
