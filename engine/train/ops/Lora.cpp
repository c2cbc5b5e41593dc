// LoRA forward/backward and the dropout mask (see Lora.h).
#include "train/ops/Lora.h"

#include "train/ops/Gemm.h"
#include "train/ops/Parallel.h"

#include <vector>

namespace lathe::train {

namespace {

uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// x ∘ mask, or x itself when there is no mask.
template <class Real>
const Real *applyMask(ThreadPool *pool, const Real *x, const Real *mask, int64_t n, std::vector<Real> &buf)
{
    if (!mask)
        return x;
    buf.resize(size_t(n));
    parallelRanges(pool, n, 1 << 14, [&](int64_t i0, int64_t i1) {
        for (int64_t i = i0; i < i1; ++i)
            buf[size_t(i)] = x[i] * mask[i];
    });
    return buf.data();
}

template <class Real>
std::vector<Real> scaled(const Real *x, int64_t n, Real s)
{
    std::vector<Real> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i)
        out[size_t(i)] = s * x[i];
    return out;
}

} // namespace

template <class Real>
void loraForward(ThreadPool *pool, const Real *x, const Real *mask, int64_t M, const LoraWeight<Real> &w, Real *u,
                 Real *y)
{
    std::vector<Real> xdBuf;
    const Real *xd = applyMask(pool, x, mask, M * w.in, xdBuf);
    std::fill(u, u + M * w.rank, Real(0));
    gemm(pool, M, w.rank, w.in, xd, w.in, GemmB<Real>::denseT(w.A, w.in), u, w.rank);
    const std::vector<Real> su = scaled(u, M * w.rank, w.scale);
    gemm(pool, M, w.out, w.rank, su.data(), w.rank, GemmB<Real>::denseT(w.B, w.rank), y, w.out);
}

// With s folded into the small factors (s·u, s·B), no [M, out] temporary is needed:
//   dB += dy^T·(s·u),  du = dy·(s·B),  dA += du^T·xd,  dx += (du·A) ∘ mask.
template <class Real>
void loraBackward(ThreadPool *pool, const Real *x, const Real *mask, int64_t M, const LoraWeight<Real> &w, const Real *u,
                  const Real *dy, Real *dA, Real *dB, Real *dx)
{
    const int64_t r = w.rank;
    if (dB) {
        const std::vector<Real> su = scaled(u, M * r, w.scale);
        gemmAT(pool, w.out, r, M, dy, w.out, GemmB<Real>::dense(su.data(), r), dB, r);
    }
    if (!dA && !dx)
        return;
    const std::vector<Real> sB = scaled(w.B, w.out * r, w.scale);
    std::vector<Real> du(size_t(M * r), Real(0));
    gemm(pool, M, r, w.out, dy, w.out, GemmB<Real>::dense(sB.data(), r), du.data(), r);
    if (dA) {
        std::vector<Real> xdBuf;
        const Real *xd = applyMask(pool, x, mask, M * w.in, xdBuf);
        gemmAT(pool, r, w.in, M, du.data(), r, GemmB<Real>::dense(xd, w.in), dA, w.in);
    }
    if (dx) {
        if (!mask) {
            gemm(pool, M, w.in, r, du.data(), r, GemmB<Real>::dense(w.A, w.in), dx, w.in);
        } else {
            std::vector<Real> dxd(size_t(M * w.in), Real(0));
            gemm(pool, M, w.in, r, du.data(), r, GemmB<Real>::dense(w.A, w.in), dxd.data(), w.in);
            parallelRanges(pool, M * w.in, 1 << 14, [&](int64_t i0, int64_t i1) {
                for (int64_t i = i0; i < i1; ++i)
                    dx[i] += dxd[size_t(i)] * mask[i];
            });
        }
    }
}

template <class Real>
void dropoutMask(uint64_t seed, uint64_t stream, double p, int64_t M, int64_t n, Real *mask)
{
    const int64_t total = M * n;
    if (p <= 0.0) {
        std::fill(mask, mask + total, Real(1));
        return;
    }
    const Real keep = Real(1.0 / (1.0 - p));
    // Compare 53-bit uniforms with p exactly as Rng::uniform() would.
    const uint64_t key = mix(seed ^ mix(stream + 0x632be59bd9b4e019ull));
    for (int64_t i = 0; i < total; ++i) {
        const double u = double(mix(key + uint64_t(i) * 0x9e3779b97f4a7c15ull) >> 11) * 0x1.0p-53;
        mask[i] = u < p ? Real(0) : keep;
    }
}

template void loraForward<float>(ThreadPool *, const float *, const float *, int64_t, const LoraWeight<float> &,
                                 float *, float *);
template void loraForward<double>(ThreadPool *, const double *, const double *, int64_t, const LoraWeight<double> &,
                                  double *, double *);
template void loraBackward<float>(ThreadPool *, const float *, const float *, int64_t, const LoraWeight<float> &,
                                  const float *, const float *, float *, float *, float *);
template void loraBackward<double>(ThreadPool *, const double *, const double *, int64_t, const LoraWeight<double> &,
                                   const double *, const double *, double *, double *, double *);
template void dropoutMask<float>(uint64_t, uint64_t, double, int64_t, int64_t, float *);
template void dropoutMask<double>(uint64_t, uint64_t, double, int64_t, int64_t, double *);

} // namespace lathe::train
