// CpuMatmul: the matmul driver. Splits output columns (weight rows) across the pool,
// walks them in blocks of rows and, inside each block, feeds tiles of activation rows
// (sliced along K) to the per-ISA kernel, so each decoded weight chunk serves a whole
// tile and the activations stay in L1.
// The scalar path (dequantizeRow + f32 dot) is the reference and the fallback.
#include "backend/cpu/CpuMatmul.h"

#include "backend/cpu/CpuFeatures.h"
#include "backend/cpu/CpuMatmulKernels.h"
#include "core/Error.h"
#include "core/Quant.h"

#include <algorithm>
#include <string>
#include <vector>

namespace lathe::cpu {

namespace {

// Below this many multiply-adds the pool's wake-up costs more than it saves.
constexpr int64_t kSerialWork = 1 << 15;

void scalarRows(const float *x, int64_t T, int64_t K, const uint8_t *w, DType wtype, size_t rb, int64_t N,
                int64_t n0, int64_t n1, float *y)
{
    thread_local std::vector<float> row;
    row.resize(size_t(K));
    for (int64_t n = n0; n < n1; ++n) {
        dequantizeRow(wtype, w + size_t(n) * rb, row.data(), K);
        for (int64_t t = 0; t < T; ++t) {
            const float *xt = x + t * K;
            float acc[8] = {}; // 8 partial sums: some ILP, fixed order
            int64_t k = 0;
            for (; k + 8 <= K; k += 8)
                for (int i = 0; i < 8; ++i)
                    acc[i] += row[size_t(k + i)] * xt[k + i];
            for (; k < K; ++k)
                acc[0] += row[size_t(k)] * xt[k];
            y[t * N + n] = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        }
    }
}

// Prefill: activation tiles of maxRows rows are sliced along K so a tile's slice stays
// in L1 (8 rows x 512 floats = 16 KiB) while a block of weight rows streams past it;
// per-row partial sums wait in `acc`. Decode (T == 1) walks whole rows.
constexpr int64_t kSlice = 2 * detail::kSliceAlign;
constexpr int64_t kPrefillBlockRows = 64;

void kernelRows(detail::DotRowsFn dot, int maxRows, const float *x, int64_t T, int64_t K, const uint8_t *w,
                size_t rb, int64_t N, int64_t n0, int64_t n1, float *y)
{
    if (T == 1) {
        for (int64_t n = n0; n < n1; ++n)
            dot(w + size_t(n) * rb, x, K, K, 0, K, nullptr, y + n, N, 1);
        return;
    }
    thread_local std::vector<float> acc;
    acc.resize(size_t(kPrefillBlockRows * maxRows * 32));
    for (int64_t b0 = n0; b0 < n1; b0 += kPrefillBlockRows) {
        const int64_t b1 = std::min(n1, b0 + kPrefillBlockRows);
        for (int64_t t0 = 0; t0 < T; t0 += maxRows) {
            const int rows = int(std::min<int64_t>(maxRows, T - t0));
            for (int64_t k0 = 0; k0 < K; k0 += kSlice) {
                const int64_t k1 = std::min(K, k0 + kSlice);
                for (int64_t n = b0; n < b1; ++n)
                    dot(w + size_t(n) * rb, x + t0 * K, K, K, k0, k1, acc.data() + (n - b0) * maxRows * 32,
                        y + t0 * N + n, N, rows);
            }
        }
    }
}

} // namespace

void matmul(ThreadPool &pool, const float *x, int64_t T, int64_t K, const void *w, DType wtype, int64_t N,
            const float *bias, float *y)
{
    if (T < 0 || K <= 0 || N < 0)
        fail("matmul: bad shape T=" + std::to_string(T) + " K=" + std::to_string(K) + " N=" + std::to_string(N));
    if (wtype == DType::I32)
        fail("matmul: I32 weights are not supported");
    const size_t rb = withContext(std::string("matmul ") + dtypeName(wtype) + " weights",
                                  [&] { return rowBytes(wtype, K); });
    if (T == 0 || N == 0)
        return;
    const auto *wb = static_cast<const uint8_t *>(w);

    const Isa isa = activeIsa();
    const detail::MatmulKernels *kernels = isa == Isa::Avx512 ? &detail::avx512Kernels()
                                           : isa == Isa::Avx2 ? &detail::avx2Kernels()
                                                              : nullptr;
    const detail::DotRowsFn dot = kernels ? kernels->dot[size_t(wtype)] : nullptr;

    auto body = [&](int64_t n0, int64_t n1, int) {
        if (dot)
            kernelRows(dot, kernels->maxRows, x, T, K, wb, rb, N, n0, n1, y);
        else
            scalarRows(x, T, K, wb, wtype, rb, N, n0, n1, y);
        if (bias)
            for (int64_t t = 0; t < T; ++t)
                for (int64_t n = n0; n < n1; ++n)
                    y[t * N + n] += bias[n];
    };
    if (T * K * N <= kSerialWork || pool.size() == 1)
        body(0, N, 0);
    else
        pool.parallelFor(N, body, 8);
}

const char *matmulIsa()
{
    return isaName(activeIsa());
}

} // namespace lathe::cpu
