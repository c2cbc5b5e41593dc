// QuantK: ggml's 256-element K-quant super-blocks Q4_K, Q5_K, Q6_K and Q8_K.
// Dequantization is exact to ggml's layout. Quantization is deliberately simple: each
// sub-block's scale (and min) comes from its min/max, those are quantized to 6 (or 8)
// bits against one f16 super-scale, and then every element takes the nearest code under
// the final, quantized scales (as ggml's reference does), so the only loss beyond
// rounding is from the range not being optimised.
#include "core/Error.h"
#include "core/Half.h"
#include "core/QuantFormats.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lathe::quant {

namespace {

constexpr int kQk = 256;

int nearestInt(float v) { return int(std::lrintf(v)); } // ties to even, like ggml

void dequantQ4_K(const BlockQ4_K &b, float *y)
{
    const float d = f16ToF32(b.d), dmin = f16ToF32(b.dmin);
    const uint8_t *q = b.qs;
    for (int j = 0; j < 8; j += 2, q += 32) {
        uint8_t sc, m;
        scaleMinK4(j, b.scales, sc, m);
        const float d1 = d * sc, m1 = dmin * m;
        scaleMinK4(j + 1, b.scales, sc, m);
        const float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; ++l) {
            y[j * 32 + l] = d1 * float(q[l] & 0xF) - m1;
            y[j * 32 + 32 + l] = d2 * float(q[l] >> 4) - m2;
        }
    }
}

void dequantQ5_K(const BlockQ5_K &b, float *y)
{
    const float d = f16ToF32(b.d), dmin = f16ToF32(b.dmin);
    const uint8_t *q = b.qs;
    for (int j = 0; j < 8; j += 2, q += 32) {
        uint8_t sc, m;
        scaleMinK4(j, b.scales, sc, m);
        const float d1 = d * sc, m1 = dmin * m;
        scaleMinK4(j + 1, b.scales, sc, m);
        const float d2 = d * sc, m2 = dmin * m;
        for (int l = 0; l < 32; ++l) { // qh bit j holds the fifth bit of sub-block j
            const int lo = (q[l] & 0xF) | ((b.qh[l] >> j) & 1) << 4;
            const int hi = (q[l] >> 4) | ((b.qh[l] >> (j + 1)) & 1) << 4;
            y[j * 32 + l] = d1 * float(lo) - m1;
            y[j * 32 + 32 + l] = d2 * float(hi) - m2;
        }
    }
}

void dequantQ6_K(const BlockQ6_K &b, float *y)
{
    const float d = f16ToF32(b.d);
    for (int half = 0; half < 2; ++half) {
        const uint8_t *ql = b.ql + 64 * half;
        const uint8_t *qh = b.qh + 32 * half;
        const int8_t *sc = b.scales + 8 * half;
        float *out = y + 128 * half;
        for (int l = 0; l < 32; ++l) {
            const int is = l / 16;
            const int q1 = ((ql[l] & 0xF) | ((qh[l] >> 0) & 3) << 4) - 32;
            const int q2 = ((ql[l + 32] & 0xF) | ((qh[l] >> 2) & 3) << 4) - 32;
            const int q3 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
            const int q4 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
            out[l] = d * float(sc[is]) * float(q1);
            out[l + 32] = d * float(sc[is + 2]) * float(q2);
            out[l + 64] = d * float(sc[is + 4]) * float(q3);
            out[l + 96] = d * float(sc[is + 6]) * float(q4);
        }
    }
}

// Packs sub-block j's 6-bit scale and min, the inverse of scaleMinK4.
void packScaleMin(int j, int sc, int m, uint8_t *q)
{
    if (j < 4) {
        q[j] = uint8_t((q[j] & 0xC0) | sc);
        q[j + 4] = uint8_t((q[j + 4] & 0xC0) | m);
    } else {
        q[j + 4] = uint8_t((sc & 0xF) | (m & 0xF) << 4);
        q[j - 4] = uint8_t(q[j - 4] | (sc >> 4) << 6);
        q[j] = uint8_t(q[j] | (m >> 4) << 6);
    }
}

// Q4_K / Q5_K shared part: 8 sub-blocks of 32 with value = d*sc*q - dmin*m, q in
// [0, qmax]. Fills the header and returns the codes L[256].
void quantizeScaleMin(const float *x, int qmax, uint16_t &dOut, uint16_t &dminOut, uint8_t *scales, uint8_t *L)
{
    float scale[8], minv[8];
    float maxScale = 0.0f, maxMin = 0.0f;
    for (int j = 0; j < 8; ++j) {
        const float *s = x + 32 * j;
        float lo = 0.0f, hi = s[0]; // the format's offset is -dmin*m <= 0, so lo <= 0
        for (int l = 0; l < 32; ++l) {
            lo = std::min(lo, s[l]);
            hi = std::max(hi, s[l]);
        }
        scale[j] = std::max(0.0f, hi - lo) / float(qmax);
        minv[j] = -lo;
        maxScale = std::max(maxScale, scale[j]);
        maxMin = std::max(maxMin, minv[j]);
    }
    dOut = f32ToF16(maxScale / 63.0f);
    dminOut = f32ToF16(maxMin / 63.0f);
    const float d = f16ToF32(dOut), dmin = f16ToF32(dminOut);
    std::memset(scales, 0, 12);
    for (int j = 0; j < 8; ++j) {
        // Round the min up so the grid's bottom reaches the smallest element, then size
        // the step so its top reaches the largest.
        const int m = dmin > 0.0f ? std::clamp(int(std::ceil(minv[j] / dmin - 1e-4f)), 0, 63) : 0;
        const float needed = (scale[j] * float(qmax) - minv[j] + dmin * float(m)) / float(qmax);
        const int sc = d > 0.0f ? std::clamp(int(std::ceil(needed / d - 1e-4f)), 0, 63) : 0;
        packScaleMin(j, sc, m, scales);
    }
    for (int j = 0; j < 8; ++j) {
        uint8_t sc, m;
        scaleMinK4(j, scales, sc, m);
        const float dd = d * sc, dm = dmin * m;
        for (int l = 0; l < 32; ++l) {
            const int q = dd > 0.0f ? nearestInt((x[32 * j + l] + dm) / dd) : 0;
            L[32 * j + l] = uint8_t(std::clamp(q, 0, qmax));
        }
    }
}

void quantQ4_K(const float *x, BlockQ4_K &b)
{
    uint8_t L[kQk];
    quantizeScaleMin(x, 15, b.d, b.dmin, b.scales, L);
    for (int j = 0; j < kQk; j += 64)
        for (int l = 0; l < 32; ++l)
            b.qs[j / 2 + l] = uint8_t(L[j + l] | L[j + l + 32] << 4);
}

void quantQ5_K(const float *x, BlockQ5_K &b)
{
    uint8_t L[kQk];
    quantizeScaleMin(x, 31, b.d, b.dmin, b.scales, L);
    std::memset(b.qh, 0, sizeof b.qh);
    for (int j = 0; j < 8; ++j)
        for (int l = 0; l < 32; ++l) {
            const int q = L[32 * j + l];
            b.qh[l] = uint8_t(b.qh[l] | (q >> 4) << j);
            uint8_t &dst = b.qs[(j / 2) * 32 + l];
            dst = (j & 1) ? uint8_t((dst & 0x0F) | (q & 0xF) << 4) : uint8_t((dst & 0xF0) | (q & 0xF));
        }
}

void quantQ6_K(const float *x, BlockQ6_K &b)
{
    float scale[16];
    float amaxScale = 0.0f, maxScale = 0.0f;
    for (int ib = 0; ib < 16; ++ib) {
        float amax = 0.0f, max = 0.0f;
        for (int l = 0; l < 16; ++l)
            if (std::fabs(x[16 * ib + l]) > amax) {
                amax = std::fabs(x[16 * ib + l]);
                max = x[16 * ib + l];
            }
        scale[ib] = max / -32.0f; // the extreme takes code -32, the rest fits in [-32, 31]
        if (std::fabs(scale[ib]) > amaxScale) {
            amaxScale = std::fabs(scale[ib]);
            maxScale = scale[ib];
        }
    }
    std::memset(&b, 0, sizeof b); // all-zero input: d = 0 and every code is 32 (zero)
    const float iscale = amaxScale > 0.0f ? -128.0f / maxScale : 0.0f;
    b.d = f32ToF16(iscale != 0.0f ? 1.0f / iscale : 0.0f);
    const float d = f16ToF32(b.d);
    uint8_t L[kQk];
    for (int ib = 0; ib < 16; ++ib) {
        b.scales[ib] = int8_t(std::clamp(nearestInt(iscale * scale[ib]), -128, 127));
        const float dd = d * float(b.scales[ib]);
        for (int l = 0; l < 16; ++l) {
            const int q = dd != 0.0f ? std::clamp(nearestInt(x[16 * ib + l] / dd), -32, 31) : 0;
            L[16 * ib + l] = uint8_t(q + 32);
        }
    }
    for (int j = 0; j < kQk; j += 128) {
        uint8_t *ql = b.ql + j / 2;
        uint8_t *qh = b.qh + j / 4;
        for (int l = 0; l < 32; ++l) {
            const uint8_t *s = L + j + l;
            ql[l] = uint8_t((s[0] & 0xF) | (s[64] & 0xF) << 4);
            ql[l + 32] = uint8_t((s[32] & 0xF) | (s[96] & 0xF) << 4);
            qh[l] = uint8_t((s[0] >> 4) | (s[32] >> 4) << 2 | (s[64] >> 4) << 4 | (s[96] >> 4) << 6);
        }
    }
}

void quantQ8_K(const float *x, BlockQ8_K &b)
{
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQk; ++j)
        if (std::fabs(x[j]) > amax) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
    std::memset(&b, 0, sizeof b);
    if (amax == 0.0f)
        return;
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQk; ++j)
        b.qs[j] = int8_t(std::min(127, nearestInt(iscale * x[j])));
    for (int j = 0; j < 16; ++j) {
        int sum = 0;
        for (int l = 0; l < 16; ++l)
            sum += b.qs[16 * j + l];
        b.bsums[j] = int16_t(sum);
    }
    b.d = 1.0f / iscale;
}

} // namespace

void dequantizeK(DType type, const void *src, float *dst, int64_t n)
{
    switch (type) {
    case DType::Q4_K:
        return forBlocks<kQk, BlockQ4_K>(src, dst, n, dequantQ4_K);
    case DType::Q5_K:
        return forBlocks<kQk, BlockQ5_K>(src, dst, n, dequantQ5_K);
    case DType::Q6_K:
        return forBlocks<kQk, BlockQ6_K>(src, dst, n, dequantQ6_K);
    case DType::Q8_K:
        return forBlocks<kQk, BlockQ8_K>(src, dst, n, [](const BlockQ8_K &b, float *y) {
            for (int j = 0; j < kQk; ++j)
                y[j] = b.d * float(b.qs[j]);
        });
    default:
        fail(std::string("dequantizeK: not a K-quant type: ") + dtypeName(type));
    }
}

void quantizeK(DType type, const float *src, void *dst, int64_t n)
{
    switch (type) {
    case DType::Q4_K:
        return forBlocksOut<kQk, BlockQ4_K>(src, dst, n, quantQ4_K);
    case DType::Q5_K:
        return forBlocksOut<kQk, BlockQ5_K>(src, dst, n, quantQ5_K);
    case DType::Q6_K:
        return forBlocksOut<kQk, BlockQ6_K>(src, dst, n, quantQ6_K);
    case DType::Q8_K:
        return forBlocksOut<kQk, BlockQ8_K>(src, dst, n, quantQ8_K);
    default:
        fail(std::string("quantizeK: not a K-quant type: ") + dtypeName(type));
    }
}

} // namespace lathe::quant
