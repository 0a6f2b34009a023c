// The checkpoint-reading paths stories260K's single float32 file does not exercise: sharded
// checkpoints (model.safetensors.index.json) and half-precision tensors (F16, BF16), checked by
// rewriting stories260K's weights and running the llama2.c reference comparison on the copy.
#include <filesystem>
#include <map>

#include <torch/torch.h>

#include "core/io/safetensors_reader.h"
#include "core/io/safetensors_writer.h"
#include "core/io/tensor_torch.h"
#include "core/model/causal_lm.h"
#include "tests/core/synthetic_checkpoint.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

constexpr int kShards = 3;

// stories260K's tensors stored as `dtype` after rounding through `precision` (a no-op when both
// agree), spread round-robin over kShards shards.
void write_sharded_stories(const std::string& dir, DType dtype, DType precision)
{
    const std::string source = test::stories_dir();
    std::filesystem::copy_file(source + "/config.json", dir + "/config.json");
    SafetensorsReader reader(source + "/model.safetensors");
    std::vector<SafetensorsWriter> writers(kShards);
    std::map<std::string, std::string> weight_map;
    std::size_t total_size = 0;
    int next = 0;
    for (const auto& [name, info] : reader.tensors()) {
        const TensorView view = reader.view(name);
        auto values = torch::from_blob(const_cast<std::uint8_t*>(view.data), info.shape,
                                       torch_dtype_of(info.dtype, name))
                          .to(torch_dtype_of(precision, name))
                          .to(torch_dtype_of(dtype, name))
                          .contiguous();
        const auto* bytes = static_cast<const std::uint8_t*>(values.data_ptr());
        std::vector<std::uint8_t> copy(bytes, bytes + values.nbytes());
        total_size += copy.size();
        writers[next].add(name, dtype, info.shape, std::move(copy));
        weight_map[name] = "model-0000" + std::to_string(next + 1) + "-of-0000" +
                           std::to_string(kShards) + ".safetensors";
        next = (next + 1) % kShards;
    }
    for (int i = 0; i < kShards; ++i)
        writers[i].write(dir + "/model-0000" + std::to_string(i + 1) + "-of-0000" +
                         std::to_string(kShards) + ".safetensors");
    write_safetensors_index(dir, weight_map, total_size);
}

torch::Tensor story_ids()
{
    auto tokens = test::read_raw<std::int32_t>(test::stories_reference("story.tokens.i32"));
    return torch::tensor(std::vector<std::int64_t>(tokens.begin(), tokens.end())).unsqueeze(0);
}

torch::Tensor reference_logits()
{
    auto values = test::read_raw<float>(test::stories_reference("story.logits.f32"));
    return torch::from_blob(values.data(), {62, 512}, torch::kFloat32).clone();
}

std::unique_ptr<CausalLM> open_sharded(const test::TempDir& dir, DType dtype)
{
    write_sharded_stories(dir.path(), dtype, dtype);
    auto model = CausalLM::open(dir.path(), torch::kCPU, /*with_tokenizer=*/false);
    // The test is only about shards and dtypes if the store really reads both.
    EXPECT_EQ(model->store().files().size(), std::size_t(kShards));
    EXPECT_EQ(model->store().info("model.embed_tokens.weight").dtype, dtype);
    return model;
}

// Fraction of positions whose most likely next token is the same.
double argmax_agreement(const torch::Tensor& a, const torch::Tensor& b)
{
    return a.argmax(-1).eq(b.argmax(-1)).to(torch::kFloat64).mean().item<double>();
}

TEST(ForwardArchShards, ShardedFloat32EqualsSingleFile)
{
    QS_REQUIRE_SHARED();
    test::TempDir dir;
    auto sharded = open_sharded(dir, DType::F32);
    auto single = CausalLM::open(test::stories_dir(), torch::kCPU, false);
    const auto expected = single->forward(story_ids());
    const auto actual = sharded->forward(story_ids());
    EXPECT_TRUE(torch::equal(expected, actual)) << test::describe_max_diff(expected, actual);
}

TEST(ForwardArchShards, HalfPrecisionIsWidenedExactly)
{
    // F16/BF16 -> float32 is exact, so a half-precision checkpoint must give bit for bit the
    // logits of a float32 checkpoint holding the same rounded values: no tolerance hides a
    // misread byte or a wrong dtype mapping.
    QS_REQUIRE_SHARED();
    for (DType half : {DType::F16, DType::BF16}) {
        test::TempDir half_dir, wide_dir;
        auto model = open_sharded(half_dir, half);
        write_sharded_stories(wide_dir.path(), DType::F32, half);
        auto widened = CausalLM::open(wide_dir.path(), torch::kCPU, false);
        const auto expected = widened->forward(story_ids());
        const auto actual = model->forward(story_ids());
        EXPECT_TRUE(torch::equal(expected, actual))
            << dtype_name(half) << ": " << test::describe_max_diff(expected, actual);
    }
}

// Rounding the weights to half precision perturbs the logits; the bounds below are about 3x
// the errors measured on stories260K (F16 1.7e-2, BF16 1.2e-1 for logits up to |22|) and scale
// with each format's precision (11 vs 8 significant bits, 8x apart). Greedy predictions all
// agreed in both; 95% leaves room for near-ties without letting a broken model through.
TEST(ForwardArchShards, Float16CopyStaysCloseToLlama2c)
{
    QS_REQUIRE_SHARED();
    test::TempDir dir;
    auto model = open_sharded(dir, DType::F16);
    const auto expected = reference_logits();
    const auto actual = model->forward(story_ids()).squeeze(0);
    EXPECT_LT(test::max_abs_diff(expected, actual), 5e-2)
        << test::describe_max_diff(expected, actual);
    EXPECT_GE(argmax_agreement(expected, actual), 0.95);
}

TEST(ForwardArchShards, BFloat16CopyStaysCloseToLlama2c)
{
    QS_REQUIRE_SHARED();
    test::TempDir dir;
    auto model = open_sharded(dir, DType::BF16);
    const auto expected = reference_logits();
    const auto actual = model->forward(story_ids()).squeeze(0);
    EXPECT_LT(test::max_abs_diff(expected, actual), 4e-1)
        << test::describe_max_diff(expected, actual);
    EXPECT_GE(argmax_agreement(expected, actual), 0.95);
}

}  // namespace
}  // namespace qs
