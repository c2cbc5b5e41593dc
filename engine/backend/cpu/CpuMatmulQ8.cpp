// CpuMatmulQ8: the portable int8-activation path. unpackUnits turns each supported block
// type into integer codes and per-unit scales (see CpuMatmulQ8Units.h); the scalar
// kernels multiply them with the quantised activations exactly as written there. This
// is the fallback without AVX2 and the statement of the math the SIMD kernels share.
#include "backend/cpu/CpuMatmulKernels.h"
#include "backend/cpu/CpuMatmulQ8Units.h"
#include "core/Half.h"
#include "core/QuantFormats.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lathe::cpu::detail {

namespace {

using namespace lathe::quant;

float halfAt(const uint8_t *p)
{
    uint16_t h;
    std::memcpy(&h, p, 2);
    return f16ToF32(h);
}

uint32_t word(const uint8_t *p)
{
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

void unpackLegacy(DType t, const uint8_t *b, WeightUnits &u)
{
    u.unit = 32;
    u.units = 1;
    u.scale[0] = halfAt(b);
    u.floatOff[0] = 0.0f;
    u.intOff = 0;
    switch (t) {
    case DType::Q8_0:
        for (int i = 0; i < 32; ++i)
            u.code[i] = int8_t(b[2 + i]);
        return;
    case DType::Q4_0:
    case DType::Q4_1: {
        const uint8_t *qs = b + (t == DType::Q4_0 ? 2 : 4);
        for (int i = 0; i < 16; ++i) {
            u.code[i] = qs[i] & 0xF;
            u.code[i + 16] = qs[i] >> 4;
        }
        if (t == DType::Q4_0)
            u.intOff = 8;
        else
            u.floatOff[0] = halfAt(b + 2);
        return;
    }
    case DType::Q5_0:
    case DType::Q5_1: {
        const bool one = t == DType::Q5_1;
        const uint32_t qh = word(b + (one ? 4 : 2));
        const uint8_t *qs = b + (one ? 8 : 6);
        for (int i = 0; i < 16; ++i) {
            u.code[i] = int16_t((qs[i] & 0xF) | (((qh >> i) & 1) << 4));
            u.code[i + 16] = int16_t((qs[i] >> 4) | (((qh >> (i + 16)) & 1) << 4));
        }
        if (one)
            u.floatOff[0] = halfAt(b + 2);
        else
            u.intOff = 16;
        return;
    }
    default:
        break;
    }
}

void unpackK(DType t, const uint8_t *b, WeightUnits &u)
{
    if (t == DType::Q6_K) {
        u.unit = 16;
        u.units = 16;
        u.intOff = 32;
        const float d = halfAt(b + 208);
        for (int i = 0; i < 16; ++i) {
            u.scale[i] = d * float(int8_t(b[192 + i]));
            u.floatOff[i] = 0.0f;
        }
        for (int h = 0; h < 2; ++h) // the element order of ggml's dequantize_row_q6_K
            for (int l = 0; l < 32; ++l) {
                const uint8_t *ql = b + 64 * h, qh = b[128 + 32 * h + l];
                int16_t *c = u.code + 128 * h + l;
                c[0] = int16_t((ql[l] & 0xF) | ((qh & 3) << 4));
                c[32] = int16_t((ql[l + 32] & 0xF) | (((qh >> 2) & 3) << 4));
                c[64] = int16_t((ql[l] >> 4) | (((qh >> 4) & 3) << 4));
                c[96] = int16_t((ql[l + 32] >> 4) | (((qh >> 6) & 3) << 4));
            }
        return;
    }
    const bool five = t == DType::Q5_K;
    u.unit = 32;
    u.units = 8;
    u.intOff = 0;
    const float d = halfAt(b), dmin = halfAt(b + 2);
    const uint8_t *qs = b + (five ? 48 : 16), *qh = b + 16;
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        scaleMinK4(j, b + 4, sc, m);
        u.scale[j] = d * float(sc);
        u.floatOff[j] = -dmin * float(m);
        for (int l = 0; l < 32; ++l) {
            const uint8_t q = qs[32 * (j / 2) + l];
            int code = (j & 1) ? q >> 4 : q & 0xF;
            if (five)
                code |= ((qh[l] >> j) & 1) << 4;
            u.code[32 * j + l] = int16_t(code);
        }
    }
}

// See roundScale in CpuMatmulQ8Simd.h: f16 only where the result is a normal f16.
float roundScale(float v)
{
    const float r = f16ToF32(f32ToF16(v));
    return std::fabs(r) >= 6.103515625e-05f && std::fabs(r) <= 65504.0f ? r : v;
}

void quantizeRowScalar(const float *x, int64_t K, int block, int8_t *q, float *d, float *ds, int32_t *s32,
                       int16_t *s16)
{
    for (int64_t b = 0; b < K / block; ++b) {
        const float *xb = x + b * block;
        float amax = 0.0f;
        bool nan = false;
        for (int i = 0; i < block; ++i) {
            amax = std::max(amax, std::fabs(xb[i]));
            nan |= std::isnan(xb[i]);
        }
        if (nan) // keep NaN visible in the output, as the f32 path would
            amax = NAN;
        const float id = amax > 0.0f ? 127.0f / amax : 0.0f, d32 = amax / 127.0f;
        d[b] = block == 32 ? roundScale(d32) : amax > 0.0f ? 1.0f / id : d32;
        int32_t total = 0;
        for (int i = 0; i < block; ++i) {
            // Clamp before rounding: NaN maps to -127 (like the SIMD max), never to UB.
            const float v = std::fmin(std::fmax(xb[i] * id, -127.0f), 127.0f);
            q[b * block + i] = int8_t(std::nearbyint(v));
            total += q[b * block + i];
        }
        if (ds)
            ds[b] = roundScale(d32 * float(total));
        if (s32)
            s32[b] = total;
    }
    for (int64_t g = 0; g < K / 16; ++g) {
        int s = 0;
        for (int i = 0; i < 16; ++i)
            s += q[16 * g + i];
        s16[g] = int16_t(s);
    }
}

// One weight row against one activation row, in the order CpuMatmulQ8Units.h states;
// a 32-block's float offset takes ds (d32 * sum(q), as llama.cpp's block_q8_1).
float dotRowScalar(DType t, const uint8_t *w, size_t blockBytes, int block, const int8_t *q, const float *d,
                   const float *ds, const int16_t *s16, int64_t K)
{
    WeightUnits u;
    float acc = 0.0f;
    for (int64_t b = 0; b < K / block; ++b) {
        unpackUnits(t, w + size_t(b) * blockBytes, u);
        float part = 0.0f;
        for (int j = 0; j < u.units; ++j) {
            const int64_t k0 = b * block + j * u.unit;
            int32_t dot = 0, sum = 0;
            for (int i = 0; i < u.unit; ++i)
                dot += int32_t(u.code[j * u.unit + i]) * q[k0 + i];
            for (int g = 0; g < u.unit / 16; ++g)
                sum += s16[k0 / 16 + g];
            part += u.scale[j] * float(dot - u.intOff * sum);
            if (block == 256)
                part += u.floatOff[j] * float(sum);
        }
        acc += d[b] * part;
        if (block == 32)
            acc += u.floatOff[0] * ds[b];
    }
    return acc;
}

template <DType kType>
void matmulScalar(const uint8_t *w, size_t rb, int64_t n0, int64_t n1, const Q8Rows &a, float *y, int64_t ldy)
{
    const size_t bb = size_t(dtypeInfo(kType).blockBytes);
    for (int64_t t = 0; t < a.T; ++t)
        for (int64_t n = n0; n < n1; ++n)
            y[t * ldy + n] = dotRowScalar(kType, w + size_t(n) * rb, bb, a.block, a.q + t * a.K,
                                          a.d + t * (a.K / a.block), a.ds ? a.ds + t * (a.K / 32) : nullptr,
                                          a.s16 + t * (a.K / 16), a.K);
}

Int8Kernels makeScalar()
{
    Int8Kernels k;
    k.quantize = quantizeRowScalar;
    auto set = [&](DType t, Int8MatmulFn fn) { k.gemv[size_t(t)] = k.gemm[size_t(t)] = fn; };
    set(DType::Q8_0, matmulScalar<DType::Q8_0>);
    set(DType::Q4_0, matmulScalar<DType::Q4_0>);
    set(DType::Q4_1, matmulScalar<DType::Q4_1>);
    set(DType::Q5_0, matmulScalar<DType::Q5_0>);
    set(DType::Q5_1, matmulScalar<DType::Q5_1>);
    set(DType::Q4_K, matmulScalar<DType::Q4_K>);
    set(DType::Q5_K, matmulScalar<DType::Q5_K>);
    set(DType::Q6_K, matmulScalar<DType::Q6_K>);
    k.panelRows = 1;
    return k;
}

} // namespace

bool hasInt8Path(DType t)
{
    switch (t) {
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
        return true;
    default:
        return false;
    }
}

int int8ActivationBlock(DType t)
{
    return dtypeInfo(t).blockSize == 256 ? 256 : 32;
}

void unpackUnits(DType t, const uint8_t *src, WeightUnits &out)
{
    if (dtypeInfo(t).blockSize == 256)
        unpackK(t, src, out);
    else
        unpackLegacy(t, src, out);
}

const Int8Kernels &int8ScalarKernels()
{
    static const Int8Kernels k = makeScalar();
    return k;
}

} // namespace lathe::cpu::detail
