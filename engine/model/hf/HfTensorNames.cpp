// HF <-> canonical tensor names (table in HfTensorNames.h).
#include "model/hf/HfTensorNames.h"

#include "core/Error.h"

#include <array>
#include <utility>

namespace lathe {

namespace {

using Pair = std::pair<const char *, const char *>; // HF suffix, canonical suffix

constexpr std::array<Pair, 3> kGlobal{{
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
}};

constexpr std::array<Pair, 15> kLayer{{
    {"input_layernorm.weight", "attn_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.o_proj.bias", "attn_output.bias"},
    {"self_attn.q_norm.weight", "attn_q_norm.weight"},
    {"self_attn.k_norm.weight", "attn_k_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
}};

// Splits "<prefix><digits>.<rest>"; returns false if s does not start with prefix.
// Throws if the digits are missing or absurd, since such a name is surely corrupt.
bool splitLayer(const std::string &s, const std::string &prefix, long &layer, std::string &rest)
{
    if (s.rfind(prefix, 0) != 0)
        return false;
    size_t pos = prefix.size();
    const size_t digitsBegin = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9' && pos - digitsBegin < 9)
        ++pos;
    if (pos == digitsBegin || pos >= s.size() || s[pos] != '.')
        fail("tensor " + s + ": malformed layer index");
    layer = std::stol(s.substr(digitsBegin, pos - digitsBegin));
    rest = s.substr(pos + 1);
    return true;
}

} // namespace

std::optional<std::string> canonicalFromHf(const std::string &hfName, int nLayers)
{
    for (const Pair &p : kGlobal)
        if (hfName == p.first)
            return std::string(p.second);
    long layer = 0;
    std::string rest;
    if (!splitLayer(hfName, "model.layers.", layer, rest))
        return std::nullopt;
    for (const Pair &p : kLayer) {
        if (rest == p.first) {
            if (layer >= nLayers)
                fail("tensor " + hfName + ": layer " + std::to_string(layer) + " is beyond num_hidden_layers " +
                     std::to_string(nLayers));
            return "blk." + std::to_string(layer) + "." + p.second;
        }
    }
    return std::nullopt;
}

std::string hfFromCanonical(const std::string &canonical)
{
    for (const Pair &p : kGlobal)
        if (canonical == p.second)
            return p.first;
    long layer = 0;
    std::string rest;
    try {
        if (splitLayer(canonical, "blk.", layer, rest))
            for (const Pair &p : kLayer)
                if (rest == p.second)
                    return "model.layers." + std::to_string(layer) + "." + p.first;
    } catch (const Error &) {
    }
    return canonical;
}

bool isIgnoredHfTensor(const std::string &hfName)
{
    const std::string suffix = "rotary_emb.inv_freq";
    return hfName.size() >= suffix.size() && hfName.compare(hfName.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace lathe
