#include "model/WeightNames.h"

#include "core/Error.h"

#include <set>

namespace lathe {

std::vector<ExpectedTensor> expectedTensors(const ModelConfig &c)
{
    const int64_t C = c.dim, V = c.vocabSize, F = c.ffnDim, D = c.headDim;
    const int64_t q = int64_t(c.nHeads) * D, kv = int64_t(c.nKvHeads) * D;
    std::vector<ExpectedTensor> out;
    out.push_back({"token_embd.weight", {V, C}});
    out.push_back({"output_norm.weight", {C}, true});
    if (!c.tiedEmbeddings)
        out.push_back({"output.weight", {V, C}});
    for (int i = 0; i < c.nLayers; ++i) {
        const std::string b = "blk." + std::to_string(i) + ".";
        out.push_back({b + "attn_norm.weight", {C}, true});
        out.push_back({b + "attn_q.weight", {q, C}});
        out.push_back({b + "attn_k.weight", {kv, C}});
        out.push_back({b + "attn_v.weight", {kv, C}});
        out.push_back({b + "attn_output.weight", {C, q}});
        if (c.qkvBias) {
            out.push_back({b + "attn_q.bias", {q}, true});
            out.push_back({b + "attn_k.bias", {kv}, true});
            out.push_back({b + "attn_v.bias", {kv}, true});
        }
        if (c.qkNorm) {
            out.push_back({b + "attn_q_norm.weight", {D}, true});
            out.push_back({b + "attn_k_norm.weight", {D}, true});
        }
        out.push_back({b + "ffn_norm.weight", {C}, true});
        out.push_back({b + "ffn_gate.weight", {F, C}});
        out.push_back({b + "ffn_up.weight", {F, C}});
        out.push_back({b + "ffn_down.weight", {C, F}});
    }
    return out;
}

void validateWeights(const ModelConfig &config, const Weights &weights)
{
    std::set<std::string> expectedNames;
    for (const ExpectedTensor &e : expectedTensors(config)) {
        expectedNames.insert(e.name);
        const TensorView *t = weights.find(e.name);
        if (!t)
            fail("missing tensor " + e.name);
        if (t->shape != e.shape)
            fail("tensor " + e.name + ": shape " + shapeString(t->shape) + ", expected " + shapeString(e.shape));
        const bool plainFloat = t->dtype == DType::F32 || t->dtype == DType::F16 || t->dtype == DType::BF16;
        if (e.isNormOrBias && !plainFloat)
            fail("tensor " + e.name + ": type " + dtypeName(t->dtype) + " is not supported for norms and biases");
        if (t->dtype == DType::I32 || t->dtype == DType::Q8_K)
            fail("tensor " + e.name + ": type " + dtypeName(t->dtype) + " is not supported for weights");
    }
    for (const std::string &name : weights.names())
        if (!expectedNames.count(name) && name.rfind("rope_freqs", 0) != 0)
            fail("unexpected tensor " + name + " for a " + config.arch + " model with " +
                 std::to_string(config.nLayers) + " layers");
}

} // namespace lathe
