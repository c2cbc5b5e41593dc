// Hugging Face tensor names <-> canonical (GGUF-style) names, see model/WeightNames.h.
//   model.embed_tokens.weight -> token_embd.weight    model.norm.weight -> output_norm.weight
//   lm_head.weight -> output.weight
//   model.layers.i.{input_layernorm, post_attention_layernorm}.weight -> blk.i.{attn_norm, ffn_norm}.weight
//   model.layers.i.self_attn.{q,k,v,o}_proj.{weight,bias} -> blk.i.attn_{q,k,v,output}.{weight,bias}
//   model.layers.i.self_attn.{q,k}_norm.weight -> blk.i.attn_{q,k}_norm.weight
//   model.layers.i.mlp.{gate,up,down}_proj.weight -> blk.i.ffn_{gate,up,down}.weight
#pragma once

#include <optional>
#include <string>

namespace lathe {

// The canonical name of an HF tensor, or nullopt for a name outside the mapping.
// Throws Error if the layer index is malformed or not below nLayers.
std::optional<std::string> canonicalFromHf(const std::string &hfName, int nLayers);

// The HF name of a canonical tensor (for messages about missing tensors); the
// canonical name itself if it has no HF counterpart.
std::string hfFromCanonical(const std::string &canonical);

// Buffers some exporters save that carry no weights (rotary inv_freq tables).
bool isIgnoredHfTensor(const std::string &hfName);

} // namespace lathe
