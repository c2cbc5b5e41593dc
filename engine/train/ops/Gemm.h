// Gemm: the one matrix product the training ops are built on,
//   C[M, N] (row stride ldc) += A[M, K] (row stride lda) · B[K, N],
// where B is a dense matrix, the transpose of one, or a frozen base matrix (or its
// transpose) dequantised one panel at a time, never whole. Every product of the
// forward and backward passes maps onto it: y = x·W^T (B = W^T), dx = dy·W (B = W),
// dW = dy^T·x (gemmAT: A read transposed, B = x).
//
// Determinism: work is split over rows of C; each element of C is accumulated over k in
// a fixed order (K in chunks of kKc, each chunk's partial sum added to C in order), the
// same whatever rows a thread holds, so results are independent of the thread count.
// Float uses an AVX2/FMA tile when CpuFeatures allows, else a portable tile.
#pragma once

#include "core/ThreadPool.h"

#include <cstdint>

namespace lathe::train {

class FrozenMatrix;

template <class Real>
struct GemmB
{
    enum class Kind : uint8_t { Dense, DenseT, Frozen, FrozenT };
    Kind kind = Kind::Dense;
    const Real *data = nullptr;
    int64_t ld = 0;
    const FrozenMatrix *frozen = nullptr;

    static GemmB dense(const Real *p, int64_t ld) { return {Kind::Dense, p, ld, nullptr}; }   // B[k][j] = p[k*ld + j]
    static GemmB denseT(const Real *p, int64_t ld) { return {Kind::DenseT, p, ld, nullptr}; } // B[k][j] = p[j*ld + k]
    static GemmB frozenPlain(const FrozenMatrix &w) { return {Kind::Frozen, nullptr, 0, &w}; } // B[k][j] = W[k][j]
    static GemmB frozenT(const FrozenMatrix &w) { return {Kind::FrozenT, nullptr, 0, &w}; }    // B[k][j] = W[j][k]
};

// C += A·B as above. M, N, K >= 0; nothing happens when any is 0. pool may be null.
template <class Real>
void gemm(ThreadPool *pool, int64_t M, int64_t N, int64_t K, const Real *A, int64_t lda, const GemmB<Real> &B, Real *C,
          int64_t ldc);

// C[M, N] += A^T·B where A is stored [K, M] (row stride lda): the weight-gradient form
// dW += dy^T·x without a transposed copy of dy (A's blocks are packed per thread).
template <class Real>
void gemmAT(ThreadPool *pool, int64_t M, int64_t N, int64_t K, const Real *A, int64_t lda, const GemmB<Real> &B,
            Real *C, int64_t ldc);

// Bytes of per-thread panel scratch gemm keeps (for memory reports).
int64_t gemmScratchBytes(int threads, int realBytes);

} // namespace lathe::train
