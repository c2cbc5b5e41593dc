// TrainLayer: forward and backward of one decoder layer over M packed tokens, the
// training twin of the loop body in engine/infer/Transformer.cpp:
//   h1 = rmsnorm(x); q,k,v = h1·W^T (+bias) (+LoRA); [qwen3: per-head rmsnorm of q, k];
//   rope(q, k); att = attention(q, k, v); x1 = x + att·Wo^T (+LoRA)
//   h2 = rmsnorm(x1); a = silu(h2·Wg^T) ∘ (h2·Wu^T); x2 = x1 + a·Wd^T (+LoRA)
// Mixed precision (ComputePrecision): rounded to 16 bits are h1, q, k, v, the q/k norm
// and rope outputs, att, every linear output (o, g, u, d), a; in backward every
// activation gradient (the dy fed to each linear, dh1, dh2, datt, da, dg, du, dq, dk, dv
// after each step). The residual stream x and its gradient stay in Real.
#pragma once

#include "model/ModelConfig.h"
#include "train/TrainModel.h"
#include "train/model/Modules.h"
#include "train/ops/Attention.h"
#include "train/ops/Linear.h"
#include "train/ops/Lora.h"
#include "train/ops/Rope.h"

#include <cstdint>
#include <vector>

namespace lathe::train {

template <class Real>
struct ModuleView
{
    LinearWeight<Real> w;
    const Real *bias = nullptr;                 // q/k/v bias (qwen2)
    Real *dW = nullptr, *dBias = nullptr;       // full fine-tuning
    bool hasLora = false;
    LoraWeight<Real> lora;
    Real *dA = nullptr, *dB = nullptr;
};

// Pointers to one layer's weights (frozen or trainable) and, where trained, gradients.
template <class Real>
struct LayerView
{
    int index = 0;
    ModuleView<Real> mod[kModules];
    const Real *attnNorm = nullptr, *ffnNorm = nullptr, *qNorm = nullptr, *kNorm = nullptr;
    Real *dAttnNorm = nullptr, *dFfnNorm = nullptr, *dQNorm = nullptr, *dKNorm = nullptr;
};

// What backward needs from forward (the layer input x is kept by the caller).
template <class Real>
struct LayerActs
{
    std::vector<Real> h1, qPre, kPre, q, k, v, lse, att, x1, h2, g, u, a;
    std::vector<Real> loraU[kModules];
    int64_t bytes() const;
};

// The batch-wide settings of one pass.
template <class Real>
struct PassSettings
{
    ThreadPool *pool = nullptr;
    const ModelConfig *config = nullptr;
    ComputePrecision precision = ComputePrecision::F32;
    int64_t tokens = 0; // M = B*T
    AttentionDims attn;
    RopeShape ropeQ, ropeK;
    const int32_t *segments = nullptr;
    const Real *rope = nullptr; // ropeTable of the batch's positions
    double eps = 0;
    double dropout = 0;       // LoRA dropout probability, 0 for none
    uint64_t dropoutSeed = 0; // masks are drawn per (layer, module) from this
};

template <class Real>
class TrainLayer
{
public:
    // acts receives the saved activations; xOut [M, C] the layer output. x and xOut may
    // not alias. Deterministic: the same inputs give the same bits (recomputation for
    // activation checkpointing relies on it).
    void forward(const PassSettings<Real> &s, const LayerView<Real> &w, const Real *x, LayerActs<Real> &acts, Real *xOut);

    // dres [M, C] holds dL/d(output) on entry and dL/d(x) on return. Adds parameter
    // gradients through w's gradient pointers.
    void backward(const PassSettings<Real> &s, const LayerView<Real> &w, const Real *x, const LayerActs<Real> &acts,
                  Real *dres);

    int64_t scratchBytes() const;

private:
    void moduleForward(const PassSettings<Real> &s, const LayerView<Real> &w, int m, const Real *x, Real *y,
                       std::vector<Real> &u);
    void moduleBackward(const PassSettings<Real> &s, const LayerView<Real> &w, int m, const Real *x, const std::vector<Real> &u,
                        const Real *dy, Real *dx);
    const Real *mask(const PassSettings<Real> &s, int layer, int m, int64_t in);

    std::vector<Real> m_mask, m_dh, m_dq, m_dk, m_dv, m_dqPre, m_dkPre, m_datt, m_dg, m_du, m_da, m_dy;
};

extern template class TrainLayer<float>;
extern template class TrainLayer<double>;

} // namespace lathe::train
