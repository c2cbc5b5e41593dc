// One decoder layer's forward and backward (see TrainLayer.h).
#include "train/model/TrainLayer.h"

#include "train/ops/Precision.h"
#include "train/ops/RmsNorm.h"
#include "train/ops/SwiGlu.h"

#include <algorithm>

namespace lathe::train {

namespace {

template <class Real>
Real *sized(std::vector<Real> &v, int64_t n)
{
    v.resize(size_t(n));
    return v.data();
}

template <class Real>
Real *zeroed(std::vector<Real> &v, int64_t n)
{
    v.assign(size_t(n), Real(0));
    return v.data();
}

template <class Real>
void roundVec(const PassSettings<Real> &s, Real *x, int64_t n)
{
    roundTo(s.precision, x, n);
}

} // namespace

template <class Real>
int64_t LayerActs<Real>::bytes() const
{
    size_t n = h1.size() + qPre.size() + kPre.size() + q.size() + k.size() + v.size() + lse.size() + att.size() +
               x1.size() + h2.size() + g.size() + u.size() + a.size();
    for (const auto &lu : loraU)
        n += lu.size();
    return int64_t(n * sizeof(Real));
}

template <class Real>
const Real *TrainLayer<Real>::mask(const PassSettings<Real> &s, int layer, int m, int64_t in)
{
    if (s.dropout <= 0.0)
        return nullptr;
    Real *p = sized(m_mask, s.tokens * in);
    dropoutMask(s.dropoutSeed, uint64_t(layer) * kModules + uint64_t(m), s.dropout, s.tokens, in, p);
    return p;
}

template <class Real>
void TrainLayer<Real>::moduleForward(const PassSettings<Real> &s, const LayerView<Real> &w, int m, const Real *x, Real *y,
                                     std::vector<Real> &u)
{
    const ModuleView<Real> &mv = w.mod[m];
    linearForward(s.pool, x, s.tokens, mv.w, mv.bias, y);
    if (mv.hasLora) {
        const Real *mk = mask(s, w.index, m, mv.w.in);
        loraForward(s.pool, x, mk, s.tokens, mv.lora, sized(u, s.tokens * mv.lora.rank), y);
    } else {
        u.clear();
    }
    roundVec(s, y, s.tokens * mv.w.out);
}

template <class Real>
void TrainLayer<Real>::moduleBackward(const PassSettings<Real> &s, const LayerView<Real> &w, int m, const Real *x,
                                      const std::vector<Real> &u, const Real *dy, Real *dx)
{
    const ModuleView<Real> &mv = w.mod[m];
    linearBackwardInput(s.pool, dy, s.tokens, mv.w, dx);
    if (mv.dW || mv.dBias)
        linearBackwardParams(s.pool, dy, x, s.tokens, mv.w.out, mv.w.in, mv.dW, mv.dBias);
    if (mv.hasLora) {
        const Real *mk = mask(s, w.index, m, mv.w.in);
        loraBackward(s.pool, x, mk, s.tokens, mv.lora, u.data(), dy, mv.dA, mv.dB, dx);
    }
}

template <class Real>
void TrainLayer<Real>::forward(const PassSettings<Real> &s, const LayerView<Real> &w, const Real *x, LayerActs<Real> &a,
                               Real *xOut)
{
    const ModelConfig &c = *s.config;
    const int64_t M = s.tokens, C = c.dim, F = c.ffnDim;
    const int64_t qDim = int64_t(c.nHeads) * c.headDim, kvDim = int64_t(c.nKvHeads) * c.headDim;

    rmsnormForward(s.pool, x, M, C, w.attnNorm, s.eps, sized(a.h1, M * C));
    roundVec(s, a.h1.data(), M * C);
    Real *q = sized(a.q, M * qDim), *k = sized(a.k, M * kvDim);
    if (c.qkNorm) {
        moduleForward(s, w, kQ, a.h1.data(), sized(a.qPre, M * qDim), a.loraU[kQ]);
        moduleForward(s, w, kK, a.h1.data(), sized(a.kPre, M * kvDim), a.loraU[kK]);
        rmsnormForward(s.pool, a.qPre.data(), M * c.nHeads, c.headDim, w.qNorm, s.eps, q);
        rmsnormForward(s.pool, a.kPre.data(), M * c.nKvHeads, c.headDim, w.kNorm, s.eps, k);
        roundVec(s, q, M * qDim);
        roundVec(s, k, M * kvDim);
    } else {
        a.qPre.clear();
        a.kPre.clear();
        moduleForward(s, w, kQ, a.h1.data(), q, a.loraU[kQ]);
        moduleForward(s, w, kK, a.h1.data(), k, a.loraU[kK]);
    }
    moduleForward(s, w, kV, a.h1.data(), sized(a.v, M * kvDim), a.loraU[kV]);
    ropeApply(s.pool, q, M, s.ropeQ, s.rope, false);
    ropeApply(s.pool, k, M, s.ropeK, s.rope, false);
    roundVec(s, q, M * qDim);
    roundVec(s, k, M * kvDim);
    attentionForward(s.pool, s.attn, q, k, a.v.data(), s.segments, sized(a.att, M * qDim), sized(a.lse, M * c.nHeads));
    roundVec(s, a.att.data(), M * qDim);

    Real *x1 = sized(a.x1, M * C);
    moduleForward(s, w, kO, a.att.data(), x1, a.loraU[kO]);
    for (int64_t i = 0; i < M * C; ++i)
        x1[i] += x[i];

    rmsnormForward(s.pool, x1, M, C, w.ffnNorm, s.eps, sized(a.h2, M * C));
    roundVec(s, a.h2.data(), M * C);
    moduleForward(s, w, kGate, a.h2.data(), sized(a.g, M * F), a.loraU[kGate]);
    moduleForward(s, w, kUp, a.h2.data(), sized(a.u, M * F), a.loraU[kUp]);
    swigluForward(s.pool, a.g.data(), a.u.data(), M * F, sized(a.a, M * F));
    roundVec(s, a.a.data(), M * F);
    moduleForward(s, w, kDown, a.a.data(), xOut, a.loraU[kDown]);
    for (int64_t i = 0; i < M * C; ++i)
        xOut[i] += x1[i];
}

template <class Real>
void TrainLayer<Real>::backward(const PassSettings<Real> &s, const LayerView<Real> &w, const Real *x,
                                const LayerActs<Real> &a, Real *dres)
{
    const ModelConfig &c = *s.config;
    const int64_t M = s.tokens, C = c.dim, F = c.ffnDim;
    const int64_t qDim = int64_t(c.nHeads) * c.headDim, kvDim = int64_t(c.nKvHeads) * c.headDim;

    // FFN: x2 = x1 + down(swiglu(gate(h2), up(h2)))
    Real *dy = sized(m_dy, M * C);
    std::copy(dres, dres + M * C, dy);
    roundVec(s, dy, M * C);
    Real *da = zeroed(m_da, M * F);
    moduleBackward(s, w, kDown, a.a.data(), a.loraU[kDown], dy, da);
    roundVec(s, da, M * F);
    Real *dg = zeroed(m_dg, M * F), *du = zeroed(m_du, M * F);
    swigluBackward(s.pool, a.g.data(), a.u.data(), da, M * F, dg, du);
    roundVec(s, dg, M * F);
    roundVec(s, du, M * F);
    Real *dh = zeroed(m_dh, M * C);
    moduleBackward(s, w, kGate, a.h2.data(), a.loraU[kGate], dg, dh);
    moduleBackward(s, w, kUp, a.h2.data(), a.loraU[kUp], du, dh);
    roundVec(s, dh, M * C);
    rmsnormBackward(s.pool, a.x1.data(), M, C, w.ffnNorm, s.eps, dh, dres, w.dFfnNorm);

    // Attention: x1 = x + o(attention(rope(q), rope(k), v))
    std::copy(dres, dres + M * C, dy);
    roundVec(s, dy, M * C);
    Real *datt = zeroed(m_datt, M * qDim);
    moduleBackward(s, w, kO, a.att.data(), a.loraU[kO], dy, datt);
    roundVec(s, datt, M * qDim);
    Real *dq = zeroed(m_dq, M * qDim), *dk = zeroed(m_dk, M * kvDim), *dv = zeroed(m_dv, M * kvDim);
    attentionBackward(s.pool, s.attn, a.q.data(), a.k.data(), a.v.data(), s.segments, a.lse.data(), datt, dq, dk, dv);
    roundVec(s, dq, M * qDim);
    roundVec(s, dk, M * kvDim);
    roundVec(s, dv, M * kvDim);
    ropeApply(s.pool, dq, M, s.ropeQ, s.rope, true);
    ropeApply(s.pool, dk, M, s.ropeK, s.rope, true);
    roundVec(s, dq, M * qDim);
    roundVec(s, dk, M * kvDim);
    if (c.qkNorm) {
        Real *dqPre = zeroed(m_dqPre, M * qDim), *dkPre = zeroed(m_dkPre, M * kvDim);
        rmsnormBackward(s.pool, a.qPre.data(), M * c.nHeads, c.headDim, w.qNorm, s.eps, dq, dqPre, w.dQNorm);
        rmsnormBackward(s.pool, a.kPre.data(), M * c.nKvHeads, c.headDim, w.kNorm, s.eps, dk, dkPre, w.dKNorm);
        roundVec(s, dqPre, M * qDim);
        roundVec(s, dkPre, M * kvDim);
        dq = dqPre;
        dk = dkPre;
    }
    std::fill(dh, dh + M * C, Real(0));
    moduleBackward(s, w, kQ, a.h1.data(), a.loraU[kQ], dq, dh);
    moduleBackward(s, w, kK, a.h1.data(), a.loraU[kK], dk, dh);
    moduleBackward(s, w, kV, a.h1.data(), a.loraU[kV], dv, dh);
    roundVec(s, dh, M * C);
    rmsnormBackward(s.pool, x, M, C, w.attnNorm, s.eps, dh, dres, w.dAttnNorm);
}

template <class Real>
int64_t TrainLayer<Real>::scratchBytes() const
{
    const size_t n = m_mask.capacity() + m_dh.capacity() + m_dq.capacity() + m_dk.capacity() + m_dv.capacity() +
                     m_dqPre.capacity() + m_dkPre.capacity() + m_datt.capacity() + m_dg.capacity() +
                     m_du.capacity() + m_da.capacity() + m_dy.capacity();
    return int64_t(n * sizeof(Real));
}

template struct LayerActs<float>;
template struct LayerActs<double>;
template class TrainLayer<float>;
template class TrainLayer<double>;

} // namespace lathe::train
