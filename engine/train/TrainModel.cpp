// TrainModel: the passes over a batch (see TrainModel.h). Forward embeds the tokens and
// runs every layer, keeping each layer's input and (unless checkpointing) its saved
// activations; the head runs over the rows that have targets, in chunks (logits,
// cross-entropy and, in backward, their gradient), so [B*T, V] logits are never held at
// once and prompt or padding rows cost nothing there; backward walks the layers
// in reverse, recomputing a checkpointed layer's activations from its input with the
// same code and the same dropout masks, so gradients are bit-identical either way.
#include "train/TrainModel.h"

#include "core/Error.h"
#include "infer/RopeFrequencies.h"
#include "model/ModelConfig.h"
#include "train/model/TrainWeights.h"
#include "train/ops/CrossEntropy.h"
#include "train/ops/Embedding.h"
#include "train/ops/Gemm.h"
#include "train/ops/Precision.h"
#include "train/ops/RmsNorm.h"
#include "train/ops/Rope.h"

#include <algorithm>
#include <cmath>

namespace lathe {

using namespace train;

namespace {
constexpr int64_t kHeadChunkElements = int64_t(1) << 23; // logits per head chunk
constexpr int64_t kMaxBatchTokens = int64_t(1) << 28;

template <class Real>
int64_t vecBytes(const std::vector<Real> &v)
{
    return int64_t(v.capacity() * sizeof(Real));
}
} // namespace

template <class Real>
struct TrainModel<Real>::Impl
{
    ModelConfig config;
    TrainModelOptions options;
    ThreadPool *pool = nullptr;
    std::vector<double> invFreq;
    TrainWeights<Real> w;
    TrainLayer<Real> layer;
    std::vector<std::vector<Real>> inputs; // layer inputs; inputs[L] is the final residual
    std::vector<LayerActs<Real>> acts;     // one per layer, or one scratch when checkpointing
    std::vector<Real> rope, hf, chunkIn, chunkLogits, chunkGrad, chunkDx, dhf, dres, recomputed;
    std::vector<int32_t> chunkTargets;
    TrainMemory mem;

    void validate(const TrainBatch &b) const;
    PassSettings<Real> settings(const TrainBatch &b, bool training, uint64_t dropoutSeed);
    void forward(const PassSettings<Real> &s, const TrainBatch &b, bool keepActivations);
    double head(const PassSettings<Real> &s, const TrainBatch &b, double gradWeight, bool backward, std::vector<Real> *logits);
    void backward(const PassSettings<Real> &s, const TrainBatch &b);
    LinearWeight<Real> outputWeight();
    const Real *outputNorm();
    void account();
};

template <class Real>
void TrainModel<Real>::Impl::validate(const TrainBatch &b) const
{
    if (b.rows <= 0 || b.seqLen <= 0 || b.rows > kMaxBatchTokens || b.seqLen > kMaxBatchTokens ||
        b.rows * b.seqLen > kMaxBatchTokens)
        fail("TrainBatch: rows " + std::to_string(b.rows) + " x seqLen " + std::to_string(b.seqLen) +
             " is not a usable batch shape");
    const size_t n = size_t(b.size());
    auto checkSize = [&](const std::vector<int32_t> &v, const char *field) {
        if (v.size() != n)
            fail(std::string("TrainBatch: ") + field + " has " + std::to_string(v.size()) + " entries, expected rows x " +
                 "seqLen = " + std::to_string(n));
    };
    checkSize(b.tokens, "tokens");
    checkSize(b.targets, "targets");
    checkSize(b.positions, "positions");
    checkSize(b.segments, "segments");
    const int32_t V = config.vocabSize;
    for (size_t i = 0; i < n; ++i) {
        if (b.tokens[i] < 0 || b.tokens[i] >= V)
            fail("TrainBatch: tokens[" + std::to_string(i) + "] = " + std::to_string(b.tokens[i]) +
                 " outside the vocabulary [0, " + std::to_string(V) + ")");
        if (b.targets[i] != kIgnoreIndex && (b.targets[i] < 0 || b.targets[i] >= V))
            fail("TrainBatch: targets[" + std::to_string(i) + "] = " + std::to_string(b.targets[i]) +
                 " is neither a token id in [0, " + std::to_string(V) + ") nor the ignore index");
        if (b.positions[i] < 0)
            fail("TrainBatch: positions[" + std::to_string(i) + "] = " + std::to_string(b.positions[i]) +
                 " is negative");
    }
}

template <class Real>
PassSettings<Real> TrainModel<Real>::Impl::settings(const TrainBatch &b, bool training, uint64_t dropoutSeed)
{
    const ModelConfig &c = config;
    PassSettings<Real> s;
    s.pool = pool;
    s.config = &config;
    s.precision = options.precision;
    s.tokens = b.size();
    s.attn = {b.rows, b.seqLen, c.nHeads, c.nKvHeads, c.headDim, 1.0 / std::sqrt(double(c.headDim))};
    const bool half = c.ropeLayout == RopeLayout::RotateHalf;
    s.ropeQ = {c.nHeads, c.headDim, c.ropeDim, half};
    s.ropeK = {c.nKvHeads, c.headDim, c.ropeDim, half};
    s.segments = b.segments.data();
    rope.resize(size_t(b.size() * (c.ropeDim / 2) * 2));
    ropeTable(pool, b.positions.data(), b.size(), invFreq.data(), c.ropeDim / 2, rope.data());
    s.rope = rope.data();
    s.eps = double(c.normEps);
    s.dropout = training && options.mode == TrainMode::Lora ? options.lora.dropout : 0.0;
    s.dropoutSeed = dropoutSeed;
    return s;
}

template <class Real>
LinearWeight<Real> TrainModel<Real>::Impl::outputWeight()
{
    LinearWeight<Real> lw;
    lw.out = config.vocabSize;
    lw.in = config.dim;
    if (w.full)
        lw.dense = w.params[size_t(w.outputParam)].value.data();
    else
        lw.frozen = w.tied ? &w.embedding : &w.output;
    return lw;
}

template <class Real>
const Real *TrainModel<Real>::Impl::outputNorm()
{
    return w.full ? w.params[size_t(w.outputNormParam)].value.data() : w.outputNorm.data();
}

template <class Real>
void TrainModel<Real>::Impl::forward(const PassSettings<Real> &s, const TrainBatch &b, bool keepActivations)
{
    const int L = config.nLayers;
    const int64_t MC = s.tokens * config.dim;
    inputs.resize(size_t(L + 1));
    for (auto &x : inputs)
        x.resize(size_t(MC));
    const bool perLayer = keepActivations && !options.checkpointActivations;
    acts.resize(perLayer ? size_t(L) : 1);
    if (w.full)
        embeddingForward(pool, w.params[size_t(w.embeddingParam)].value.data(), config.dim, b.tokens.data(), s.tokens,
                         inputs[0].data());
    else
        embeddingForward(pool, w.embedding, b.tokens.data(), s.tokens, inputs[0].data());
    for (int i = 0; i < L; ++i)
        layer.forward(s, layerView(w, config, options, i, false), inputs[size_t(i)].data(), acts[perLayer ? size_t(i) : 0],
                      inputs[size_t(i + 1)].data());
    hf.resize(size_t(MC));
    rmsnormForward(pool, inputs[size_t(L)].data(), s.tokens, config.dim, outputNorm(), s.eps, hf.data());
    roundTo(s.precision, hf.data(), MC);
}

// The head over the rows that matter: all of them for logits(), else only rows with a
// target (prompt and padding rows have no loss, so neither their logits nor a gradient
// through them exist), gathered into chunks of at most kHeadChunkElements logits.
template <class Real>
double TrainModel<Real>::Impl::head(const PassSettings<Real> &s, const TrainBatch &b, double gradWeight, bool backward,
                                    std::vector<Real> *logits)
{
    const int64_t M = s.tokens, C = config.dim, V = config.vocabSize;
    std::vector<int64_t> rowsUsed;
    for (int64_t i = 0; i < M; ++i)
        if (logits || b.targets[size_t(i)] != kIgnoreIndex)
            rowsUsed.push_back(i);
    const int64_t used = int64_t(rowsUsed.size());
    const int64_t rows = std::clamp<int64_t>(kHeadChunkElements / V, 1, std::max<int64_t>(used, 1));
    const LinearWeight<Real> out = outputWeight();
    Real *dOut = backward && w.full ? w.params[size_t(w.outputParam)].grad.data() : nullptr;
    chunkIn.resize(size_t(rows * C));
    chunkTargets.resize(size_t(rows));
    chunkLogits.resize(size_t(rows * V));
    if (backward) {
        chunkGrad.resize(size_t(rows * V));
        chunkDx.resize(size_t(rows * C));
        dhf.assign(size_t(M * C), Real(0));
    }
    if (logits)
        logits->resize(size_t(M * V));
    double nll = 0.0;
    for (int64_t r0 = 0; r0 < used; r0 += rows) {
        const int64_t n = std::min(rows, used - r0);
        for (int64_t j = 0; j < n; ++j) {
            const int64_t i = rowsUsed[size_t(r0 + j)];
            std::copy(hf.begin() + i * C, hf.begin() + (i + 1) * C, chunkIn.begin() + j * C);
            chunkTargets[size_t(j)] = b.targets[size_t(i)];
        }
        linearForward(pool, chunkIn.data(), n, out, static_cast<const Real *>(nullptr), chunkLogits.data());
        roundTo(s.precision, chunkLogits.data(), n * V);
        if (logits) {
            std::copy(chunkLogits.begin(), chunkLogits.begin() + n * V, logits->begin() + r0 * V);
            continue;
        }
        if (!backward) {
            nll += crossEntropy<Real>(pool, chunkLogits.data(), n, V, chunkTargets.data(), 0.0, nullptr);
            continue;
        }
        std::fill(chunkGrad.begin(), chunkGrad.begin() + n * V, Real(0));
        nll += crossEntropy<Real>(pool, chunkLogits.data(), n, V, chunkTargets.data(), gradWeight, chunkGrad.data());
        roundTo(s.precision, chunkGrad.data(), n * V);
        std::fill(chunkDx.begin(), chunkDx.begin() + n * C, Real(0));
        linearBackwardInput(pool, chunkGrad.data(), n, out, chunkDx.data());
        for (int64_t j = 0; j < n; ++j) {
            const int64_t i = rowsUsed[size_t(r0 + j)];
            std::copy(chunkDx.begin() + j * C, chunkDx.begin() + (j + 1) * C, dhf.begin() + i * C);
        }
        if (dOut)
            linearBackwardParams(pool, chunkGrad.data(), chunkIn.data(), n, V, C, dOut, static_cast<Real *>(nullptr));
    }
    if (backward) {
        roundTo(s.precision, dhf.data(), M * C);
        dres.assign(size_t(M * C), Real(0));
        Real *dNorm = w.full ? w.params[size_t(w.outputNormParam)].grad.data() : nullptr;
        rmsnormBackward(pool, inputs.back().data(), M, C, outputNorm(), s.eps, dhf.data(), dres.data(), dNorm);
    }
    return nll;
}

template <class Real>
void TrainModel<Real>::Impl::backward(const PassSettings<Real> &s, const TrainBatch &b)
{
    const int L = config.nLayers;
    for (int i = L - 1; i >= 0; --i) {
        const LayerView<Real> view = layerView(w, config, options, i, true);
        if (options.checkpointActivations) {
            recomputed.resize(size_t(s.tokens * config.dim));
            layer.forward(s, view, inputs[size_t(i)].data(), acts[0], recomputed.data());
        }
        layer.backward(s, view, inputs[size_t(i)].data(), acts[options.checkpointActivations ? 0 : size_t(i)],
                       dres.data());
    }
    if (w.full)
        embeddingBackward(pool, b.tokens.data(), s.tokens, config.dim, dres.data(),
                          w.params[size_t(w.embeddingParam)].grad.data());
}

template <class Real>
void TrainModel<Real>::Impl::account()
{
    int64_t a = vecBytes(hf);
    for (const auto &x : inputs)
        a += vecBytes(x);
    for (const auto &x : acts)
        a += x.bytes();
    mem.activations = std::max(mem.activations, a);
    int64_t ws = layer.scratchBytes() + vecBytes(rope) + vecBytes(chunkIn) + vecBytes(chunkLogits) + vecBytes(chunkGrad) +
                 vecBytes(chunkDx) + vecBytes(dhf) + vecBytes(dres) + vecBytes(recomputed) +
                 gemmScratchBytes(pool ? pool->size() : 1, int(sizeof(Real)));
    mem.workspace = std::max(mem.workspace, ws);
}

template <class Real>
TrainModel<Real>::TrainModel(const ModelConfig &config, const Weights &base, const TrainModelOptions &options,
                             ThreadPool *pool)
    : m_impl(std::make_unique<Impl>())
{
    Impl &d = *m_impl;
    config.validate();
    d.config = config;
    d.options = options;
    d.pool = pool;
    if (d.config.ropeDim <= 0)
        d.config.ropeDim = d.config.headDim;
    if (d.config.ropeDim > d.config.headDim || d.config.ropeDim % 2 != 0)
        fail("rope dimension " + std::to_string(d.config.ropeDim) + " must be even and <= head dim " +
             std::to_string(d.config.headDim));
    d.invFreq = ropeInverseFrequencies(d.config);
    buildTrainWeights(d.config, base, options, d.w);
}

template <class Real>
TrainModel<Real>::~TrainModel() = default;

template <class Real>
const ModelConfig &TrainModel<Real>::config() const
{
    return m_impl->config;
}

template <class Real>
const TrainModelOptions &TrainModel<Real>::options() const
{
    return m_impl->options;
}

template <class Real>
std::vector<TrainParam<Real>> &TrainModel<Real>::params()
{
    return m_impl->w.params;
}

template <class Real>
const std::vector<TrainParam<Real>> &TrainModel<Real>::params() const
{
    return m_impl->w.params;
}

template <class Real>
void TrainModel<Real>::zeroGrads()
{
    for (TrainParam<Real> &p : m_impl->w.params)
        std::fill(p.grad.begin(), p.grad.end(), Real(0));
}

template <class Real>
double TrainModel<Real>::forwardBackward(const TrainBatch &batch, double gradWeight, uint64_t dropoutSeed)
{
    Impl &d = *m_impl;
    d.validate(batch);
    for (const TrainParam<Real> &p : d.w.params)
        if (p.value.size() != p.grad.size())
            fail("parameter " + p.name + ": value and gradient sizes differ");
    d.mem = {};
    const PassSettings<Real> s = d.settings(batch, true, dropoutSeed);
    d.forward(s, batch, true);
    const double nll = d.head(s, batch, gradWeight, true, nullptr);
    d.account();
    d.backward(s, batch);
    d.account();
    return nll;
}

template <class Real>
double TrainModel<Real>::evaluate(const TrainBatch &batch)
{
    Impl &d = *m_impl;
    d.validate(batch);
    d.mem = {};
    const PassSettings<Real> s = d.settings(batch, false, 0);
    d.forward(s, batch, false);
    const double nll = d.head(s, batch, 0.0, false, nullptr);
    d.account();
    return nll;
}

template <class Real>
void TrainModel<Real>::logits(const TrainBatch &batch, std::vector<Real> &out)
{
    Impl &d = *m_impl;
    d.validate(batch);
    d.mem = {};
    const PassSettings<Real> s = d.settings(batch, false, 0);
    d.forward(s, batch, false);
    d.head(s, batch, 0.0, false, &out);
    d.account();
}

template <class Real>
TrainMemory TrainModel<Real>::memory() const
{
    const Impl &d = *m_impl;
    TrainMemory m = d.mem;
    m.weights = d.w.frozenBytes();
    m.trainable = 0;
    for (const TrainParam<Real> &p : d.w.params)
        m.trainable += int64_t((p.value.size() + p.grad.size()) * sizeof(Real));
    return m;
}

template class TrainModel<float>;
template class TrainModel<double>;

} // namespace lathe
