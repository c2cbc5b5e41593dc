// Blocked causal GQA attention forward and backward (see Attention.h).
#include "train/ops/Attention.h"

#include "train/ops/ExpRow.h"
#include "train/ops/FastMath.h"
#include "train/ops/Gemm.h"
#include "train/ops/Parallel.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <vector>

namespace lathe::train {

namespace {

constexpr int64_t kQueryBlock = 64;

// Where each token's keys start. first[i]: the first position of token i's segment id
// in its row, so the keys token i may see lie in [first[i], i]; contiguous[b]: row b's
// segments are runs (no id comes back after another), so all of [first[i], i] is visible.
struct Segments
{
    std::vector<int64_t> first;
    std::vector<uint8_t> contiguous;
};

Segments segmentStarts(const AttentionDims &d, const int32_t *segments)
{
    Segments g;
    g.first.resize(size_t(d.rows * d.seqLen));
    g.contiguous.assign(size_t(d.rows), 1);
    std::unordered_map<int32_t, int64_t> seen;
    for (int64_t b = 0; b < d.rows; ++b) {
        seen.clear();
        for (int64_t t = 0; t < d.seqLen; ++t) {
            const int64_t i = b * d.seqLen + t;
            const int64_t f = seen.try_emplace(segments[i], t).first->second;
            g.first[size_t(i)] = f;
            if (t > 0 && f != t && segments[i] != segments[i - 1])
                g.contiguous[size_t(b)] = 0;
        }
    }
    return g;
}

// Shared geometry of one (row, query block): keys [kLo, t1).
struct Block
{
    int64_t t0, t1, kLo;
    int64_t queries() const { return t1 - t0; }
    int64_t keys() const { return t1 - kLo; }
};

Block blockAt(const AttentionDims &d, const Segments &g, int64_t b, int64_t t0)
{
    Block blk{t0, std::min(d.seqLen, t0 + kQueryBlock), t0};
    for (int64_t t = blk.t0; t < blk.t1; ++t)
        blk.kLo = std::min(blk.kLo, g.first[size_t(b * d.seqLen + t)]);
    return blk;
}

// Turns the block's raw scores q·k (rows of S) into probabilities: zero outside each
// query's visible keys; forward (lseIn null) normalises e^{scale·s − max} and writes
// lse; backward recomputes e^{scale·s − lse}.
template <class Real>
void probabilities(const AttentionDims &d, const Segments &g, int64_t b, const Block &blk, const int32_t *seg,
                   const Real *lseIn, Real *lseOut, int64_t lseStride, Real *S)
{
    const int64_t nk = blk.keys();
    const Real scale = Real(d.scale);
    const bool contiguous = g.contiguous[size_t(b)] != 0;
    for (int64_t t = blk.t0; t < blk.t1; ++t) {
        Real *row = S + (t - blk.t0) * nk;
        const int64_t lo = g.first[size_t(b * d.seqLen + t)] - blk.kLo, hi = t - blk.kLo + 1; // candidates [lo, hi)
        std::fill(row, row + lo, Real(0));
        std::fill(row + hi, row + nk, Real(0));
        Real *x = row + lo;
        const int64_t n = hi - lo;
        for (int64_t s = 0; s < n; ++s)
            x[s] *= scale;
        if (!contiguous)
            for (int64_t s = 0; s < n; ++s)
                if (seg[blk.kLo + lo + s] != seg[t])
                    x[s] = -std::numeric_limits<Real>::infinity();
        const Real shift = lseIn ? lseIn[t * lseStride] : maxOf(x, n); // the query itself is visible: finite
        expRow(x, x, n, shift);
        if (!contiguous) // exactly 0 across segments (expRow of -inf is only tiny)
            for (int64_t s = 0; s < n; ++s)
                if (seg[blk.kLo + lo + s] != seg[t])
                    x[s] = Real(0);
        if (lseIn)
            continue;
        const double sum = sumOf(x, n);
        lseOut[t * lseStride] = Real(double(shift) + std::log(sum));
        const Real inv = Real(1.0 / sum);
        for (int64_t s = 0; s < n; ++s)
            x[s] *= inv;
    }
}

} // namespace

template <class Real>
void attentionForward(ThreadPool *pool, const AttentionDims &d, const Real *q, const Real *k, const Real *v,
                      const int32_t *segments, Real *out, Real *lse)
{
    const int64_t D = d.headDim, H = d.heads, group = d.heads / d.kvHeads;
    const int64_t ldq = H * D, ldk = int64_t(d.kvHeads) * D;
    const Segments g = segmentStarts(d, segments);
    parallelRanges(pool, d.rows * H, 1, [&](int64_t i0, int64_t i1) {
        std::vector<Real> S;
        for (int64_t i = i0; i < i1; ++i) {
            const int64_t b = i / H, h = i % H, kvh = h / group;
            const int64_t base = b * d.seqLen;
            const Real *qh = q + base * ldq + h * D;
            const Real *kh = k + base * ldk + kvh * D;
            const Real *vh = v + base * ldk + kvh * D;
            Real *oh = out + base * ldq + h * D;
            for (int64_t t0 = 0; t0 < d.seqLen; t0 += kQueryBlock) {
                const Block blk = blockAt(d, g, b, t0);
                const int64_t nq = blk.queries(), nk = blk.keys();
                S.assign(size_t(nq * nk), Real(0));
                gemm<Real>(nullptr, nq, nk, D, qh + t0 * ldq, ldq, GemmB<Real>::denseT(kh + blk.kLo * ldk, ldk),
                           S.data(), nk);
                probabilities<Real>(d, g, b, blk, segments + base, nullptr, lse + base * H + h, H, S.data());
                for (int64_t t = blk.t0; t < blk.t1; ++t)
                    std::fill(oh + t * ldq, oh + t * ldq + D, Real(0));
                gemm<Real>(nullptr, nq, D, nk, S.data(), nk, GemmB<Real>::dense(vh + blk.kLo * ldk, ldk), oh + t0 * ldq,
                           ldq);
            }
        }
    });
}

template <class Real>
void attentionBackward(ThreadPool *pool, const AttentionDims &d, const Real *q, const Real *k, const Real *v,
                       const int32_t *segments, const Real *lse, const Real *dout, Real *dq, Real *dk, Real *dv)
{
    const int64_t D = d.headDim, H = d.heads, group = d.heads / d.kvHeads;
    const int64_t ldq = H * D, ldk = int64_t(d.kvHeads) * D;
    const Real scale = Real(d.scale);
    const Segments g = segmentStarts(d, segments);
    parallelRanges(pool, d.rows * d.kvHeads, 1, [&](int64_t i0, int64_t i1) {
        std::vector<Real> P, dS;
        for (int64_t i = i0; i < i1; ++i) {
            const int64_t b = i / d.kvHeads, kvh = i % d.kvHeads;
            const int64_t base = b * d.seqLen;
            const Real *kh = k + base * ldk + kvh * D;
            const Real *vh = v + base * ldk + kvh * D;
            Real *dkh = dk + base * ldk + kvh * D;
            Real *dvh = dv + base * ldk + kvh * D;
            for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
                const Real *qh = q + base * ldq + h * D;
                const Real *doh = dout + base * ldq + h * D;
                Real *dqh = dq + base * ldq + h * D;
                for (int64_t t0 = 0; t0 < d.seqLen; t0 += kQueryBlock) {
                    const Block blk = blockAt(d, g, b, t0);
                    const int64_t nq = blk.queries(), nk = blk.keys();
                    P.assign(size_t(nq * nk), Real(0));
                    gemm<Real>(nullptr, nq, nk, D, qh + t0 * ldq, ldq, GemmB<Real>::denseT(kh + blk.kLo * ldk, ldk),
                               P.data(), nk);
                    probabilities<Real>(d, g, b, blk, segments + base, lse + base * H + h, nullptr, H, P.data());
                    dS.assign(size_t(nq * nk), Real(0));
                    gemm<Real>(nullptr, nq, nk, D, doh + t0 * ldq, ldq, GemmB<Real>::denseT(vh + blk.kLo * ldk, ldk),
                               dS.data(), nk);
                    for (int64_t r = 0; r < nq; ++r) { // dS = scale · P ∘ (dP − Σ P∘dP)
                        Real *ds = dS.data() + r * nk;
                        const Real *p = P.data() + r * nk;
                        const Real delta = Real(dotOf(p, ds, nk));
                        for (int64_t c = 0; c < nk; ++c)
                            ds[c] = scale * (p[c] * (ds[c] - delta));
                    }
                    gemm<Real>(nullptr, nq, D, nk, dS.data(), nk, GemmB<Real>::dense(kh + blk.kLo * ldk, ldk),
                               dqh + t0 * ldq, ldq);
                    gemmAT<Real>(nullptr, nk, D, nq, dS.data(), nk, GemmB<Real>::dense(qh + t0 * ldq, ldq),
                                 dkh + blk.kLo * ldk, ldk);
                    gemmAT<Real>(nullptr, nk, D, nq, P.data(), nk, GemmB<Real>::dense(doh + t0 * ldq, ldq),
                                 dvh + blk.kLo * ldk, ldk);
                }
            }
        }
    });
}

template void attentionForward<float>(ThreadPool *, const AttentionDims &, const float *, const float *, const float *,
                                      const int32_t *, float *, float *);
template void attentionForward<double>(ThreadPool *, const AttentionDims &, const double *, const double *,
                                       const double *, const int32_t *, double *, double *);
template void attentionBackward<float>(ThreadPool *, const AttentionDims &, const float *, const float *,
                                       const float *, const int32_t *, const float *, const float *, float *, float *,
                                       float *);
template void attentionBackward<double>(ThreadPool *, const AttentionDims &, const double *, const double *,
                                        const double *, const int32_t *, const double *, const double *, double *,
                                        double *, double *);

} // namespace lathe::train
