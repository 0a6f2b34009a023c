// LayerStream: the prefetching layer iterator gives exactly load_layer's weights, in order, and
// refuses ranges outside the model and reads past the end; a stream dropped mid-way joins its
// prefetch. The forward pass and perplexity run through it (their reference tests still hold).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model/causal_lm.h"
#include "core/model/layer_stream.h"
#include "core/util/error.h"
#include "tests/core/test_support.h"

TEST(LayerStream, GivesEveryLayerExactlyAsLoadLayer)
{
    QS_REQUIRE_SHARED();
    auto model = qs::CausalLM::open(qs::test::stories_dir());
    qs::LayerStream stream(*model);
    for (int i = 0; i < model->num_layers(); ++i) {
        EXPECT_EQ(stream.index(), i);
        const qs::LayerWeights streamed = stream.next();
        const qs::LayerWeights direct = model->load_layer(i);
        ASSERT_EQ(streamed.all().size(), direct.all().size());
        for (const auto& [name, tensor] : direct.all())
            EXPECT_TRUE(torch::equal(streamed.get(name), tensor)) << "layer " << i << " " << name;
    }
    EXPECT_THROW(stream.next(), qs::QsError);
}

TEST(LayerStream, RangesAndEarlyDrop)
{
    QS_REQUIRE_SHARED();
    auto model = qs::CausalLM::open(qs::test::stories_dir());
    {
        qs::LayerStream middle(*model, 2, 4);
        EXPECT_TRUE(torch::equal(middle.next().get("self_attn.q_proj.weight"),
                                 model->load_layer(2).get("self_attn.q_proj.weight")));
        // Dropped with layer 3 still loading: the destructor waits for it.
    }
    qs::LayerStream empty(*model, 5, 5);
    EXPECT_THROW(empty.next(), qs::QsError);
    EXPECT_THROW(qs::LayerStream(*model, 0, 6), qs::QsError);
    EXPECT_THROW(qs::LayerStream(*model, -1), qs::QsError);
}
