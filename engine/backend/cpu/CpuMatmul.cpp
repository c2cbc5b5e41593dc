// CpuMatmul: the matmul driver. Picks the int8 or f32 path, splits output columns
// (weight rows) across the pool, and feeds the per-ISA kernels:
//  * f32 path: a single activation row streams the weights row by row (decode); a
//    batch goes in tiles of weight rows x activation rows over all of K, the weight
//    rows walked in blocks that stay in L2 while every tile of activation rows passes.
//  * int8 path: the activation rows are quantised once (in parallel for big batches),
//    then gemv (few rows) or gemm (a batch: packed weight panels) per thread.
// The scalar path (dequantizeRow + f32 dot) is the reference and the fallback.
#include "backend/cpu/CpuMatmul.h"

#include "backend/cpu/CpuFeatures.h"
#include "backend/cpu/CpuMatmulKernels.h"
#include "backend/cpu/CpuMatmulQ8Units.h"
#include "core/Error.h"
#include "core/Quant.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

namespace lathe::cpu {

namespace {

// Below this many multiply-adds the pool's wake-up costs more than it saves.
constexpr int64_t kSerialWork = 1 << 15;
// From this many activation rows the int8 path packs weight panels (gemm); below it,
// decoding each weight block once per row (gemv) is cheaper than packing.
constexpr int64_t kGemmMinRows = 4;
// Weight rows per block of the f32 path's batched loop: 32 rows of K <= 4096 f32 stay
// in L2 while the activation tiles pass.
constexpr int64_t kBlockRows = 32;

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

void tileRows(const detail::MatmulKernels &k, DType wtype, const float *x, int64_t T, int64_t K, const uint8_t *w,
              size_t rb, int64_t N, int64_t n0, int64_t n1, float *y)
{
    if (T == 1)
        return k.decode[size_t(wtype)](w + size_t(n0) * rb, rb, n1 - n0, x, K, y + n0);
    const detail::DotTileFn tile = k.tile[size_t(wtype)];
    const int C = k.maxCols, R = k.maxRows;
    for (int64_t b0 = n0; b0 < n1; b0 += kBlockRows) {
        const int64_t b1 = std::min(n1, b0 + kBlockRows);
        for (int64_t t0 = 0; t0 < T; t0 += R) {
            const int rows = int(std::min<int64_t>(R, T - t0));
            for (int64_t n = b0; n < b1; n += C)
                tile(w + size_t(n) * rb, rb, int(std::min<int64_t>(C, b1 - n)), x + t0 * K, K, rows, K,
                     y + t0 * N + n, N);
        }
    }
}

const detail::Int8Kernels &int8Kernels(Isa isa)
{
    switch (isa) {
    case Isa::Avx512Vnni:
        return detail::int8Avx512VnniKernels();
    case Isa::Avx512:
        return detail::int8Avx512Kernels();
    case Isa::Avx2:
        return detail::int8Avx2Kernels();
    case Isa::Scalar:
        break;
    }
    return detail::int8ScalarKernels();
}

// The quantised activations of one matmul, reused by the calling thread across calls.
struct Q8Buffer
{
    std::vector<int8_t> q;
    std::vector<float> d, ds;
    std::vector<int32_t> s32;
    std::vector<int16_t> s16;
};

void matmulInt8(ThreadPool &pool, const float *x, int64_t T, int64_t K, const uint8_t *w, DType wtype, size_t rb,
                int64_t N, float *y, Isa isa)
{
    const detail::Int8Kernels &k = int8Kernels(isa);
    const int block = detail::int8ActivationBlock(wtype);
    thread_local Q8Buffer buf; // the caller's; workers reach it only through `a` below
    buf.q.resize(size_t(T * K));
    buf.d.resize(size_t(T * (K / block)));
    buf.ds.resize(block == 32 ? size_t(T * (K / 32)) : 0);
    buf.s32.resize(block == 32 ? size_t(T * (K / 32)) : 0);
    buf.s16.resize(size_t(T * (K / 16)));
    detail::Q8Rows a;
    a.q = buf.q.data();
    a.d = buf.d.data();
    a.ds = block == 32 ? buf.ds.data() : nullptr;
    a.s32 = block == 32 ? buf.s32.data() : nullptr;
    a.s16 = buf.s16.data();
    int8_t *q = buf.q.data();
    float *d = buf.d.data(), *ds = block == 32 ? buf.ds.data() : nullptr;
    int32_t *s32 = block == 32 ? buf.s32.data() : nullptr;
    int16_t *s16 = buf.s16.data();
    auto quantize = [&](int64_t t0, int64_t t1, int) {
        for (int64_t t = t0; t < t1; ++t)
            k.quantize(x + t * K, K, block, q + t * K, d + t * (K / block), ds ? ds + t * (K / 32) : nullptr,
                       s32 ? s32 + t * (K / 32) : nullptr, s16 + t * (K / 16));
    };
    if (T * K >= (1 << 16) && pool.size() > 1)
        pool.parallelFor(T, quantize, 1);
    else
        quantize(0, T, 0);

    a.T = T;
    a.K = K;
    a.block = block;
    const bool batched = T >= kGemmMinRows;
    const detail::Int8MatmulFn fn = batched ? k.gemm[size_t(wtype)] : k.gemv[size_t(wtype)];
    auto body = [&](int64_t n0, int64_t n1, int) { fn(w, rb, n0, n1, a, y, N); };
    if (T * K * N <= kSerialWork || pool.size() == 1)
        body(0, N, 0);
    else // whole panels per thread, so no thread packs a part-empty panel mid-range
        pool.parallelFor(N, body, batched ? k.panelRows : 8);
}

} // namespace

const char *matmulPrecisionName(MatmulPrecision p)
{
    return p == MatmulPrecision::Exact ? "exact" : "int8";
}

std::optional<MatmulPrecision> matmulPrecisionFromName(std::string_view name)
{
    for (MatmulPrecision p : {MatmulPrecision::Int8, MatmulPrecision::Exact})
        if (name == matmulPrecisionName(p))
            return p;
    return std::nullopt;
}

MatmulPrecision matmulPrecisionFromEnvironment()
{
    const char *env = std::getenv("LATHE_MATMUL");
    if (!env || !*env)
        return MatmulPrecision::Int8;
    if (auto p = matmulPrecisionFromName(env))
        return *p;
    fail(std::string("LATHE_MATMUL=") + env + ": expected 'int8' or 'exact'");
}

bool usesInt8Activations(DType t, MatmulPrecision precision)
{
    return precision == MatmulPrecision::Int8 && detail::hasInt8Path(t);
}

void matmul(ThreadPool &pool, const float *x, int64_t T, int64_t K, const void *w, DType wtype, int64_t N,
            const float *bias, float *y, MatmulPrecision precision)
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

    if (usesInt8Activations(wtype, precision)) {
        matmulInt8(pool, x, T, K, wb, wtype, rb, N, y, isa);
    } else {
        const detail::MatmulKernels *kernels = isa >= Isa::Avx512 ? &detail::avx512Kernels()
                                               : isa == Isa::Avx2 ? &detail::avx2Kernels()
                                                                  : nullptr;
        const bool simd = kernels && kernels->tile[size_t(wtype)];
        auto body = [&](int64_t n0, int64_t n1, int) {
            if (simd)
                tileRows(*kernels, wtype, x, T, K, wb, rb, N, n0, n1, y);
            else
                scalarRows(x, T, K, wb, wtype, rb, N, n0, n1, y);
        };
        if (T * K * N <= kSerialWork || pool.size() == 1)
            body(0, N, 0);
        else
            pool.parallelFor(N, body, 8);
    }
    if (bias) // separate pass: the kernels' outputs are final sums, bias added once
        for (int64_t t = 0; t < T; ++t)
            for (int64_t n = 0; n < N; ++n)
                y[t * N + n] += bias[n];
}

const char *matmulIsa()
{
    return isaName(activeIsa());
}

} // namespace lathe::cpu
