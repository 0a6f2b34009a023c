// quantize_model keeps a half-precision checkpoint's layers as stored (half the memory of float32
// master weights) unless an observer reads them. Both ways must write the same checkpoint, bit
// for bit, for every method and compute dtype: the quantization math is float32 either way.
#include <filesystem>

#include "core/io/tensor_store.h"
#include "core/io/tensor_torch.h"
#include "core/model/layer_stream.h"
#include "core/model/random_llama.h"
#include "core/quant/quantize_model.h"
#include "core/quant/quantize_observer.h"
#include "tests/core/test_support.h"

namespace qs {
namespace {

std::string write_half_llama(const test::TempDir& tmp, DType dtype)
{
    RandomLlamaSpec spec;
    spec.hidden_size = 64;
    spec.intermediate_size = 160;
    spec.num_layers = 2;
    spec.num_heads = 4;
    spec.num_kv_heads = 2;
    spec.vocab_size = 512;
    spec.dtype = dtype;
    spec.outlier_channels = 2;  // SmoothQuant and AWQ get channels worth scaling
    spec.tokenizer_from = test::stories_dir();
    const auto dir = tmp.file(dtype_name(dtype));
    write_random_llama(spec, dir, false);
    return dir;
}

Recipe recipe(const std::string& yaml)
{
    return Recipe::from_yaml(yaml + "calibration: {dataset: " + test::shared_dir() +
                             "/data/wikitext-2/valid.txt, samples: 4, seqlen: 64, seed: 0}\n");
}

// Number of layer tensors that differ between two written checkpoints (all of them compared).
int differing_layer_tensors(const std::string& a_dir, const std::string& b_dir, int* compared)
{
    auto a = TensorStore::open_dir(a_dir), b = TensorStore::open_dir(b_dir);
    EXPECT_EQ(a->names(), b->names());
    int differing = 0;
    for (const auto& name : a->names()) {
        if (name.find("layers.") == std::string::npos) continue;
        ++*compared;
        if (!torch::equal(load_tensor(*a, name), load_tensor(*b, name))) {
            ADD_FAILURE() << name << " differs";
            ++differing;
        }
    }
    return differing;
}

TEST(QuantizeMasters, StoredStreamKeepsTheCheckpointsHalfPrecision)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    const auto dir = write_half_llama(tmp, DType::F16);
    auto model = CausalLM::open(dir, torch::kCPU, false);
    LayerStream stored(*model, 0, 1, LayerDtype::Stored);
    LayerStream float32(*model, 0, 1, LayerDtype::Float32);
    const auto half = stored.next(), full = float32.next();
    ASSERT_EQ(half.all().size(), full.all().size());
    for (const auto& [name, tensor] : half.all()) {
        EXPECT_EQ(tensor.scalar_type(), torch::kFloat16) << name;
        EXPECT_TRUE(torch::equal(tensor.to(torch::kFloat32), full.get(name))) << name;
    }
    EXPECT_EQ(2 * half.bytes(), full.bytes());
}

TEST(QuantizeMasters, HalfPrecisionMastersWriteTheSameCheckpointAsFloat32Ones)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    const std::vector<std::string> recipes = {
        "methods: [rtn]\nweights: int4-g32-asym\n",
        "methods: [gptq]\nweights: int4-g32-asym\n",
        "methods: [gptq]\nweights: mxfp4-32\n",
        "methods: [awq, gptq]\nweights: int4-g32-asym\n",
        "methods: [smoothquant, rtn]\nweights: int8-channel-sym\nactivations: int8-token-sym\n",
        "methods: [rtn]\nweights: fp8-e4m3-channel\n",
    };
    for (DType stored : {DType::F16, DType::BF16}) {
        const auto dir = write_half_llama(tmp, stored);
        for (auto compute : {torch::kFloat32, torch::kBFloat16}) {
            auto model = CausalLM::open(dir, torch::kCPU, true, compute);
            for (std::size_t i = 0; i < recipes.size(); ++i) {
                SCOPED_TRACE(dtype_name(stored) + " checkpoint, compute " +
                             std::string(c10::toString(compute)) + ", " + recipes[i]);
                const auto r = recipe(recipes[i]);
                const auto as_stored = tmp.file("stored");
                const auto as_float32 = tmp.file("float32");
                QuantizeOptions options;
                options.force = true;
                quantize_model(*model, r, as_stored, options);
                QuantizeObserver reads_float32_masters;  // observes nothing
                options.observer = &reads_float32_masters;
                quantize_model(*model, r, as_float32, options);
                int compared = 0;
                EXPECT_EQ(differing_layer_tensors(as_stored, as_float32, &compared), 0);
                EXPECT_EQ(compared, 2 * 9);
            }
        }
    }
}

// On a GPU the quantized linears' float32 weights go to the host and the layer keeps bf16 copies
// (what the bf16 forward uses anyway). Forced on the CPU: the same checkpoint, bit for bit; a
// scaling method after quantization (re-quantized by RTN) keeps everything in the layer.
TEST(QuantizeMasters, OffloadedQuantizedWeightsWriteTheSameCheckpoint)
{
    QS_REQUIRE_SHARED();
    test::TempDir tmp;
    const auto dir = write_half_llama(tmp, DType::F16);
    auto model = CausalLM::open(dir, torch::kCPU, true, torch::kBFloat16);
    const std::vector<std::pair<std::string, int>> recipes = {
        {"methods: [gptq]\nweights: int4-g32-asym\n", 14},
        {"methods: [smoothquant, rtn]\nweights: int8-channel-sym\nactivations: int8-token-sym\n",
         14},
        {"methods: [rtn]\nweights: fp8-e4m3-channel\n", 14},
        {"methods: [gptq, awq]\nweights: int4-g32-asym\n", 0},
    };
    for (const auto& [yaml, offloaded] : recipes) {
        SCOPED_TRACE(yaml);
        const auto r = recipe(yaml);
        QuantizeOptions options;
        options.force = true;
        const auto in_layer = quantize_model(*model, r, tmp.file("in-layer"), options);
        options.force_offload = true;
        const auto on_host = quantize_model(*model, r, tmp.file("on-host"), options);
        EXPECT_EQ(in_layer.offloaded_weights, 0);
        EXPECT_EQ(on_host.offloaded_weights, offloaded);
        int compared = 0;
        EXPECT_EQ(differing_layer_tensors(tmp.file("in-layer"), tmp.file("on-host"), &compared), 0);
        EXPECT_EQ(compared, 2 * 9);
    }
}

}  // namespace
}  // namespace qs
