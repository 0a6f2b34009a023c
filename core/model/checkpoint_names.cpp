// The token embedding is the one tensor every checkpoint of an architecture has, so its name
// decides the prefix; everything else is derived from that prefix.
#include "core/model/checkpoint_names.h"

#include "core/util/error.h"

namespace qs {

namespace {

std::string detect_opt_base(const TensorStore& store)
{
    for (const char* base : {"model.decoder.", "decoder."})
        if (store.contains(std::string(base) + "embed_tokens.weight")) return base;
    fail_file(store.location(), "missing tensor 'model.decoder.embed_tokens.weight'");
}

}  // namespace

CheckpointNames checkpoint_names(const ModelConfig& config, const TensorStore& store)
{
    CheckpointNames n;
    if (config.arch == Architecture::Llama) {
        n.base = "model.";
        n.final_norm = n.base + "norm";
        n.linears = decoder_linear_names(config);
        n.attn_norm = "input_layernorm";
        n.mlp_norm = "post_attention_layernorm";
    } else {
        n.base = detect_opt_base(store);
        n.embed_positions = n.base + "embed_positions.weight";
        // transformers builds final_layer_norm only for pre-LN models without the removal flag.
        if (config.do_layer_norm_before && !config.remove_final_layer_norm)
            n.final_norm = n.base + "final_layer_norm";
        if (config.word_embed_proj_dim != config.hidden_size) {
            n.project_in = n.base + "project_in.weight";
            n.project_out = n.base + "project_out.weight";
        }
        n.linears = decoder_linear_names(config);
        n.attn_norm = "self_attn_layer_norm";
        n.mlp_norm = "final_layer_norm";
    }
    n.layers = n.base + "layers.";
    n.embed_tokens = n.base + "embed_tokens.weight";
    if (!store.contains(n.embed_tokens))
        fail_file(store.location(), "missing tensor '" + n.embed_tokens + "'");

    if (store.contains("lm_head.weight"))
        n.lm_head = "lm_head.weight";
    else if (config.tie_word_embeddings)
        n.lm_head = n.embed_tokens;
    else
        fail_file(store.location(),
                  "missing tensor 'lm_head.weight' (config.json has tie_word_embeddings false)");
    return n;
}

std::vector<std::string> decoder_linear_names(const ModelConfig& config)
{
    if (config.arch == Architecture::Opt)
        return {"self_attn.q_proj",
                "self_attn.k_proj",
                "self_attn.v_proj",
                "self_attn.out_proj",
                "fc1",
                "fc2"};
    return {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
            "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
}

}  // namespace qs
