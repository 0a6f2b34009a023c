// Tensor names of a Hugging Face checkpoint, resolved once against the stored tensors so that
// ModelInfo and the forward pass (CausalLM) agree on them. Conventions:
//  - embed_tokens, embed_positions, project_in, project_out and lm_head are FULL tensor names
//    (they are weight-only modules), e.g. "model.embed_tokens.weight";
//  - final_norm, attn_norm and mlp_norm are module names WITHOUT ".weight"/".bias" because OPT's
//    LayerNorms carry both;
//  - a layer tensor is layer_prefix(i) + short name + ".weight" / ".bias", e.g.
//    "model.layers.3." + "self_attn.q_proj" + ".weight";
//  - an empty string means the module does not exist in this architecture or checkpoint.
// Llama family: "model.embed_tokens.weight", "model.layers.{i}.", "model.norm", "lm_head.weight".
// OPT: "model.decoder.embed_tokens.weight", "model.decoder.embed_positions.weight",
// "model.decoder.layers.{i}.", "model.decoder.final_layer_norm", project_in/out; some OPT
// checkpoints (the facebook/opt-* originals) drop the leading "model.", which is detected.
#pragma once

#include <string>
#include <vector>

#include "core/io/tensor_store.h"
#include "core/model/model_config.h"

namespace qs {

struct CheckpointNames {
    std::string base;    // "model." (Llama), "model.decoder." or "decoder." (OPT)
    std::string layers;  // base + "layers."
    std::string layer_prefix(int i) const { return layers + std::to_string(i) + "."; }

    std::string embed_tokens;
    std::string embed_positions;  // OPT learned positions (rows offset by 2); "" for Llama
    std::string final_norm;       // module; "" when OPT has no final LayerNorm (post-LN)
    // The output projection: "lm_head.weight" when stored, else embed_tokens (tied weights).
    std::string lm_head;
    std::string project_in;   // OPT when word_embed_proj_dim != hidden_size, else ""
    std::string project_out;  // likewise

    // Short names inside a layer, in forward order. Llama: self_attn.{q,k,v,o}_proj,
    // mlp.{gate,up,down}_proj. OPT: self_attn.{q,k,v,out}_proj, fc1, fc2.
    std::vector<std::string> linears;
    std::string attn_norm;  // Llama "input_layernorm", OPT "self_attn_layer_norm"
    std::string mlp_norm;   // Llama "post_attention_layernorm", OPT "final_layer_norm"
};

// Throws QsError "<store location>: missing tensor '<name>'" when the token embedding (which
// decides the prefix) is absent, or when lm_head is neither stored nor tied.
CheckpointNames checkpoint_names(const ModelConfig& config, const TensorStore& store);

// Short names of a decoder layer's linears in forward order (what CheckpointNames::linears holds).
std::vector<std::string> decoder_linear_names(const ModelConfig& config);

}  // namespace qs
