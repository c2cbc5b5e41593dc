// QuantLegacy: ggml's 32-element block types Q8_0, Q4_0, Q4_1, Q5_0, Q5_1.
// Quantizers follow ggml's reference (round-to-nearest with the same expressions, so
// the bytes match llama-quantize's); the block scale is computed in f32 and stored as
// f16, which is why dequantized errors can exceed d/2 by |q| * f16 rounding of d.
#include "core/Error.h"
#include "core/Half.h"
#include "core/QuantFormats.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

namespace lathe::quant {

namespace {

constexpr int kQk = 32;

uint32_t loadQh(const uint8_t *qh)
{
    uint32_t v;
    std::memcpy(&v, qh, 4); // little-endian, as ggml writes it
    return v;
}

// The signed value of largest magnitude (first one on ties), and that magnitude.
void signedMax(const float *x, float &amax, float &max)
{
    amax = 0.0f;
    max = 0.0f;
    for (int j = 0; j < kQk; ++j)
        if (amax < std::fabs(x[j])) {
            amax = std::fabs(x[j]);
            max = x[j];
        }
}

void minMax(const float *x, float &min, float &max)
{
    min = FLT_MAX;
    max = -FLT_MAX;
    for (int j = 0; j < kQk; ++j) {
        min = std::min(min, x[j]);
        max = std::max(max, x[j]);
    }
}

void quantizeQ8_0(const float *x, BlockQ8_0 &b)
{
    float amax = 0.0f;
    for (int j = 0; j < kQk; ++j)
        amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32ToF16(d);
    for (int j = 0; j < kQk; ++j)
        b.qs[j] = int8_t(std::roundf(x[j] * id));
}

void quantizeQ4_0(const float *x, BlockQ4_0 &b)
{
    float amax, max;
    signedMax(x, amax, max);
    const float d = max / -8.0f; // the extreme maps to code 0 (-8), the far side to <= 15
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32ToF16(d);
    for (int j = 0; j < 16; ++j) {
        const int lo = std::min(15, int(int8_t(x[j] * id + 8.5f)));
        const int hi = std::min(15, int(int8_t(x[j + 16] * id + 8.5f)));
        b.qs[j] = uint8_t(lo | hi << 4);
    }
}

void quantizeQ4_1(const float *x, BlockQ4_1 &b)
{
    float min, max;
    minMax(x, min, max);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32ToF16(d);
    b.m = f32ToF16(min);
    for (int j = 0; j < 16; ++j) {
        const int lo = std::min(15, int(int8_t((x[j] - min) * id + 0.5f)));
        const int hi = std::min(15, int(int8_t((x[j + 16] - min) * id + 0.5f)));
        b.qs[j] = uint8_t(lo | hi << 4);
    }
}

void quantizeQ5_0(const float *x, BlockQ5_0 &b)
{
    float amax, max;
    signedMax(x, amax, max);
    const float d = max / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32ToF16(d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const int lo = std::min(31, int(int8_t(x[j] * id + 16.5f)));
        const int hi = std::min(31, int(int8_t(x[j + 16] * id + 16.5f)));
        b.qs[j] = uint8_t((lo & 0xF) | (hi & 0xF) << 4);
        qh |= uint32_t((lo & 0x10) >> 4) << j;
        qh |= uint32_t((hi & 0x10) >> 4) << (j + 16);
    }
    std::memcpy(b.qh, &qh, 4);
}

void quantizeQ5_1(const float *x, BlockQ5_1 &b)
{
    float min, max;
    minMax(x, min, max);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b.d = f32ToF16(d);
    b.m = f32ToF16(min);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
        const int lo = std::min(31, int(uint8_t((x[j] - min) * id + 0.5f)));
        const int hi = std::min(31, int(uint8_t((x[j + 16] - min) * id + 0.5f)));
        b.qs[j] = uint8_t((lo & 0xF) | (hi & 0xF) << 4);
        qh |= uint32_t((lo & 0x10) >> 4) << j;
        qh |= uint32_t((hi & 0x10) >> 4) << (j + 16);
    }
    std::memcpy(b.qh, &qh, 4);
}

} // namespace

void dequantizeLegacy(DType type, const void *src, float *dst, int64_t n)
{
    switch (type) {
    case DType::Q8_0:
        return forBlocks<kQk, BlockQ8_0>(src, dst, n, [](const BlockQ8_0 &b, float *y) {
            const float d = f16ToF32(b.d);
            for (int j = 0; j < kQk; ++j)
                y[j] = float(b.qs[j]) * d;
        });
    case DType::Q4_0:
        return forBlocks<kQk, BlockQ4_0>(src, dst, n, [](const BlockQ4_0 &b, float *y) {
            const float d = f16ToF32(b.d);
            for (int j = 0; j < 16; ++j) {
                y[j] = float((b.qs[j] & 0xF) - 8) * d;
                y[j + 16] = float((b.qs[j] >> 4) - 8) * d;
            }
        });
    case DType::Q4_1:
        return forBlocks<kQk, BlockQ4_1>(src, dst, n, [](const BlockQ4_1 &b, float *y) {
            const float d = f16ToF32(b.d), m = f16ToF32(b.m);
            for (int j = 0; j < 16; ++j) {
                y[j] = float(b.qs[j] & 0xF) * d + m;
                y[j + 16] = float(b.qs[j] >> 4) * d + m;
            }
        });
    case DType::Q5_0:
        return forBlocks<kQk, BlockQ5_0>(src, dst, n, [](const BlockQ5_0 &b, float *y) {
            const float d = f16ToF32(b.d);
            const uint32_t qh = loadQh(b.qh);
            for (int j = 0; j < 16; ++j) {
                const int lo = int((b.qs[j] & 0xF) | ((qh >> j) & 1u) << 4);
                const int hi = int((b.qs[j] >> 4) | ((qh >> (j + 16)) & 1u) << 4);
                y[j] = float(lo - 16) * d;
                y[j + 16] = float(hi - 16) * d;
            }
        });
    case DType::Q5_1:
        return forBlocks<kQk, BlockQ5_1>(src, dst, n, [](const BlockQ5_1 &b, float *y) {
            const float d = f16ToF32(b.d), m = f16ToF32(b.m);
            const uint32_t qh = loadQh(b.qh);
            for (int j = 0; j < 16; ++j) {
                const int lo = int((b.qs[j] & 0xF) | ((qh >> j) & 1u) << 4);
                const int hi = int((b.qs[j] >> 4) | ((qh >> (j + 16)) & 1u) << 4);
                y[j] = float(lo) * d + m;
                y[j + 16] = float(hi) * d + m;
            }
        });
    default:
        fail(std::string("dequantizeLegacy: not a legacy block type: ") + dtypeName(type));
    }
}

void quantizeLegacy(DType type, const float *src, void *dst, int64_t n)
{
    switch (type) {
    case DType::Q8_0:
        return forBlocksOut<kQk, BlockQ8_0>(src, dst, n, quantizeQ8_0);
    case DType::Q4_0:
        return forBlocksOut<kQk, BlockQ4_0>(src, dst, n, quantizeQ4_0);
    case DType::Q4_1:
        return forBlocksOut<kQk, BlockQ4_1>(src, dst, n, quantizeQ4_1);
    case DType::Q5_0:
        return forBlocksOut<kQk, BlockQ5_0>(src, dst, n, quantizeQ5_0);
    case DType::Q5_1:
        return forBlocksOut<kQk, BlockQ5_1>(src, dst, n, quantizeQ5_1);
    default:
        fail(std::string("quantizeLegacy: not a legacy block type: ") + dtypeName(type));
    }
}

} // namespace lathe::quant
