// Transformer: the one generic decoder-only forward pass for every ArchSpec.
//   x = embed(tokens)
//   per layer: h = rmsnorm(x); q,k,v = h·Wq,Wk,Wv (+bias, qwen2); (qwen3: rmsnorm per
//              q/k head); rope(q, k); cache k, v; x += attention(q, cache)·Wo
//              h = rmsnorm(x); x += (silu(h·Wgate) * h·Wup)·Wdown
//   logits = rmsnorm(x)·Wout (Wout = token_embd.weight when the head is tied)
// All T tokens of a call go through each matmul together (batched prefill). Activations
// are f32; the weights stay as the loader mapped them (any supported dtype).
#pragma once

#include "backend/Device.h"
#include "infer/KvCache.h"
#include "model/ModelConfig.h"
#include "model/Weights.h"

#include <span>
#include <vector>

namespace lathe {

enum class LogitsMode : uint8_t { LastOnly = 0, All = 1 };

class Transformer
{
public:
    // Prepares the weights on the device (CPU: views into the mapping, plus f32 copies of
    // the small norm and bias vectors). Throws Error naming a missing or malformed tensor.
    // device and weights must outlive the Transformer.
    Transformer(Device &device, const ModelConfig &config, const Weights &weights);

    const ModelConfig &config() const { return m_config; }
    Device &device() const { return m_device; }

    // Runs tokens at positions startPos .. startPos+T-1, writing their keys and values
    // into cache (which then holds startPos + T positions; startPos <= cache.size()).
    // logits receives [1, V] (LastOnly) or [T, V] (All). Throws Error "context of N tokens
    // exceeded" when startPos + T > cache.capacity(), and for ids outside the vocabulary.
    void forward(std::span<const int32_t> tokens, int64_t startPos, KvCache &cache, LogitsMode mode,
                 std::vector<float> &logits);

private:
    struct Layer
    {
        TensorView wq, wk, wv, wo, wGate, wUp, wDown;
        DeviceBuffer attnNorm, ffnNorm, qNorm, kNorm, bq, bk, bv; // f32 copies
    };
    DeviceBuffer vectorToDevice(const Weights &weights, const std::string &name, int64_t n);
    TensorView matrix(const Weights &weights, const std::string &name, int64_t rows, int64_t cols);
    void ensureScratch(int64_t T);

    Device &m_device;
    ModelConfig m_config;
    int m_ropeDim = 0;
    std::vector<double> m_invFreq;
    TensorView m_embedding;
    TensorView m_output;
    DeviceBuffer m_outputNorm;
    std::vector<Layer> m_layers;

    int64_t m_scratchT = 0;
    int64_t m_logitsRows = 0;
    DeviceBuffer m_x, m_h, m_q, m_k, m_v, m_att, m_o, m_gate, m_up, m_logits, m_positions;
};

} // namespace lathe
