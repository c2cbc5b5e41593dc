// Transformer: weight preparation and the forward pass (see Transformer.h).
#include "infer/Transformer.h"

#include "core/Error.h"
#include "core/Quant.h"
#include "infer/RopeFrequencies.h"

#include <cmath>

namespace lathe {

namespace {
std::string blk(int i, const char *suffix)
{
    return "blk." + std::to_string(i) + "." + suffix;
}
} // namespace

DeviceBuffer Transformer::vectorToDevice(const Weights &weights, const std::string &name, int64_t n)
{
    const TensorView &t = weights.get(name);
    if (t.numel() != n || t.data == nullptr)
        fail("tensor " + name + ": shape " + shapeString(t.shape) + ", expected [" + std::to_string(n) + "]");
    if (t.bytes < rowBytes(t.dtype, n))
        fail("tensor " + name + ": " + std::to_string(t.bytes) + " bytes, too few for its shape");
    std::vector<float> host(static_cast<size_t>(n));
    dequantizeRow(t.dtype, t.data, host.data(), n);
    DeviceBuffer b = m_device.allocate(size_t(n) * sizeof(float), MemoryTag::Weights);
    m_device.copyToDevice(b.data(), host.data(), b.bytes());
    return b;
}

TensorView Transformer::matrix(const Weights &weights, const std::string &name, int64_t rows, int64_t cols)
{
    const TensorView &t = weights.get(name);
    if (t.shape.size() != 2 || t.shape[0] != rows || t.shape[1] != cols)
        fail("tensor " + name + ": shape " + shapeString(t.shape) + ", expected " + shapeString({rows, cols}));
    if (t.data == nullptr || t.bytes < size_t(rows) * rowBytes(t.dtype, cols))
        fail("tensor " + name + ": " + std::to_string(t.bytes) + " bytes, too few for its shape");
    return m_device.prepareWeight(t);
}

Transformer::Transformer(Device &device, const ModelConfig &config, const Weights &weights)
    : m_device(device), m_config(config)
{
    m_config.validate();
    const ModelConfig &c = m_config;
    m_ropeDim = c.ropeDim > 0 ? c.ropeDim : c.headDim;
    if (m_ropeDim > c.headDim || m_ropeDim % 2 != 0)
        fail("rope dimension " + std::to_string(m_ropeDim) + " must be even and <= head dim " +
             std::to_string(c.headDim));
    m_invFreq = ropeInverseFrequencies(c);
    const int64_t qDim = int64_t(c.nHeads) * c.headDim;
    const int64_t kvDim = int64_t(c.nKvHeads) * c.headDim;
    m_embedding = matrix(weights, "token_embd.weight", c.vocabSize, c.dim);
    m_output = weights.find("output.weight") ? matrix(weights, "output.weight", c.vocabSize, c.dim) : m_embedding;
    m_outputNorm = vectorToDevice(weights, "output_norm.weight", c.dim);
    m_layers.resize(size_t(c.nLayers));
    for (int i = 0; i < c.nLayers; ++i) {
        Layer &l = m_layers[size_t(i)];
        l.attnNorm = vectorToDevice(weights, blk(i, "attn_norm.weight"), c.dim);
        l.ffnNorm = vectorToDevice(weights, blk(i, "ffn_norm.weight"), c.dim);
        l.wq = matrix(weights, blk(i, "attn_q.weight"), qDim, c.dim);
        l.wk = matrix(weights, blk(i, "attn_k.weight"), kvDim, c.dim);
        l.wv = matrix(weights, blk(i, "attn_v.weight"), kvDim, c.dim);
        l.wo = matrix(weights, blk(i, "attn_output.weight"), c.dim, qDim);
        l.wGate = matrix(weights, blk(i, "ffn_gate.weight"), c.ffnDim, c.dim);
        l.wUp = matrix(weights, blk(i, "ffn_up.weight"), c.ffnDim, c.dim);
        l.wDown = matrix(weights, blk(i, "ffn_down.weight"), c.dim, c.ffnDim);
        if (c.qkvBias) {
            l.bq = vectorToDevice(weights, blk(i, "attn_q.bias"), qDim);
            l.bk = vectorToDevice(weights, blk(i, "attn_k.bias"), kvDim);
            l.bv = vectorToDevice(weights, blk(i, "attn_v.bias"), kvDim);
        }
        if (c.qkNorm) {
            l.qNorm = vectorToDevice(weights, blk(i, "attn_q_norm.weight"), c.headDim);
            l.kNorm = vectorToDevice(weights, blk(i, "attn_k_norm.weight"), c.headDim);
        }
    }
}

void Transformer::ensureScratch(int64_t T)
{
    if (T <= m_scratchT)
        return;
    const ModelConfig &c = m_config;
    auto alloc = [&](int64_t n) { return m_device.allocate(size_t(n) * sizeof(float), MemoryTag::Activations); };
    m_x = alloc(T * c.dim);
    m_h = alloc(T * c.dim);
    m_q = alloc(T * c.nHeads * c.headDim);
    m_k = alloc(T * c.nKvHeads * c.headDim);
    m_v = alloc(T * c.nKvHeads * c.headDim);
    m_att = alloc(T * c.nHeads * c.headDim);
    m_o = alloc(T * c.dim);
    m_gate = alloc(T * c.ffnDim);
    m_up = alloc(T * c.ffnDim);
    m_positions = m_device.allocate(size_t(T) * sizeof(int32_t), MemoryTag::Activations);
    m_scratchT = T;
}

void Transformer::forward(std::span<const int32_t> tokens, int64_t startPos, KvCache &cache, LogitsMode mode,
                          std::vector<float> &logits)
{
    const ModelConfig &c = m_config;
    const int64_t T = int64_t(tokens.size());
    if (T == 0)
        fail("forward: no tokens");
    if (startPos < 0 || startPos > cache.size())
        fail("forward: start position " + std::to_string(startPos) + " beyond the " + std::to_string(cache.size()) +
             " cached positions");
    if (startPos + T > cache.capacity())
        fail("context of " + std::to_string(cache.capacity()) + " tokens exceeded (" + std::to_string(startPos) +
             " cached + " + std::to_string(T) + " new)");
    ensureScratch(T);
    Device &d = m_device;
    std::vector<int32_t> positions(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t)
        positions[size_t(t)] = int32_t(startPos + t);
    d.copyToDevice(m_positions.data(), positions.data(), positions.size() * sizeof(int32_t));
    const auto *pos = static_cast<const int32_t *>(m_positions.data());
    const AttentionShape shape{c.nHeads, c.nKvHeads, c.headDim, float(1.0 / std::sqrt(double(c.headDim)))};
    const bool rotateHalf = c.ropeLayout == RopeLayout::RotateHalf;

    d.embedding(m_embedding, tokens.data(), T, m_x.f32());
    for (int i = 0; i < c.nLayers; ++i) {
        const Layer &l = m_layers[size_t(i)];
        const KvLayerView kv = cache.layer(i);
        d.rmsnorm(m_x.f32(), T, c.dim, l.attnNorm.f32(), c.normEps, m_h.f32());
        d.matmul(m_h.f32(), T, l.wq, l.bq.f32(), m_q.f32());
        d.matmul(m_h.f32(), T, l.wk, l.bk.f32(), m_k.f32());
        d.matmul(m_h.f32(), T, l.wv, l.bv.f32(), m_v.f32());
        if (c.qkNorm) {
            d.rmsnorm(m_q.f32(), T * c.nHeads, c.headDim, l.qNorm.f32(), c.normEps, m_q.f32());
            d.rmsnorm(m_k.f32(), T * c.nKvHeads, c.headDim, l.kNorm.f32(), c.normEps, m_k.f32());
        }
        d.rope(m_q.f32(), T, c.nHeads, c.headDim, m_ropeDim, rotateHalf, pos, m_invFreq.data());
        d.rope(m_k.f32(), T, c.nKvHeads, c.headDim, m_ropeDim, rotateHalf, pos, m_invFreq.data());
        d.kvStore(kv, startPos, T, m_k.f32(), m_v.f32());
        d.attention(m_q.f32(), T, startPos, kv, shape, m_att.f32());
        d.matmul(m_att.f32(), T, l.wo, nullptr, m_o.f32());
        d.add(m_x.f32(), m_o.f32(), T * c.dim, m_x.f32());

        d.rmsnorm(m_x.f32(), T, c.dim, l.ffnNorm.f32(), c.normEps, m_h.f32());
        d.matmul(m_h.f32(), T, l.wGate, nullptr, m_gate.f32());
        d.matmul(m_h.f32(), T, l.wUp, nullptr, m_up.f32());
        d.swiglu(m_gate.f32(), m_up.f32(), T * c.ffnDim, m_gate.f32());
        d.matmul(m_gate.f32(), T, l.wDown, nullptr, m_o.f32());
        d.add(m_x.f32(), m_o.f32(), T * c.dim, m_x.f32());
    }
    cache.setSize(startPos + T);

    // Only the rows whose logits are wanted go through the final norm and the head.
    const int64_t rows = mode == LogitsMode::All ? T : 1;
    const float *last = m_x.f32() + (T - rows) * c.dim;
    if (rows > m_logitsRows) { // sized by the rows asked for: [T, V] only when all are wanted
        m_logits = d.allocate(size_t(rows) * size_t(c.vocabSize) * sizeof(float), MemoryTag::Activations);
        m_logitsRows = rows;
    }
    d.rmsnorm(last, rows, c.dim, m_outputNorm.f32(), c.normEps, m_h.f32());
    d.matmul(m_h.f32(), rows, m_output, nullptr, m_logits.f32());
    logits.resize(size_t(rows) * size_t(c.vocabSize));
    d.copyToHost(logits.data(), m_logits.data(), logits.size() * sizeof(float));
}

} // namespace lathe
