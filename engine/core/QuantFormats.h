// QuantFormats: the byte layouts of the block types (ggml's block_* structs and our
// NF4), shared by the scalar reference in core/Quant*.cpp and the SIMD matmul kernels
// in backend/cpu. Internal to the engine; users go through core/Quant.h.
#pragma once

#include "core/DType.h"

#include <cstdint>

namespace lathe::quant {

// Every struct is byte-packed (no padding) and matches DType.cpp's blockBytes; the
// static_asserts below keep them honest. Halves are raw IEEE binary16 bits.
#pragma pack(push, 1)
struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };                 // (q - 8) * d
struct BlockQ4_1 { uint16_t d, m; uint8_t qs[16]; };              // q * d + m
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };  // (q | hbit << 4) - 16
struct BlockQ5_1 { uint16_t d, m; uint8_t qh[4]; uint8_t qs[16]; };
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
struct BlockQ4_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[128]; };
struct BlockQ5_K { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };
struct BlockQ8_K { float d; int8_t qs[256]; int16_t bsums[16]; };
struct BlockNf4 { uint8_t qs[32]; float absmax; }; // element 2i low nibble of qs[i], 2i+1 high
#pragma pack(pop)

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockNf4) == 36);

// The 16 NormalFloat4 levels (QLoRA, Dettmers et al. 2023, appendix E): quantiles of
// N(0, 1) normalised to [-1, 1], with an exact zero.
inline constexpr float kNf4Levels[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

// K-quant sub-block j (0..7) scale and min: 6-bit values packed into 12 bytes. The first
// four live in the low 6 bits of bytes 0..3 / 4..7; the last four are split between a
// nibble of bytes 8..11 and the top two bits of bytes 0..7.
inline void scaleMinK4(int j, const uint8_t *q, uint8_t &sc, uint8_t &m)
{
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = uint8_t((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

// Apply fn to each of the n / Qk blocks of a row: (block, its Qk floats) when decoding,
// (Qk floats, the block to fill) when encoding.
template <int64_t Qk, typename Block, typename Fn>
void forBlocks(const void *src, float *dst, int64_t n, Fn fn)
{
    const auto *b = static_cast<const Block *>(src);
    for (int64_t i = 0; i < n / Qk; ++i)
        fn(b[i], dst + i * Qk);
}

template <int64_t Qk, typename Block, typename Fn>
void forBlocksOut(const float *src, void *dst, int64_t n, Fn fn)
{
    auto *b = static_cast<Block *>(dst);
    for (int64_t i = 0; i < n / Qk; ++i)
        fn(src + i * Qk, b[i]);
}

// Per-family row codecs (n is a multiple of the block size; checked by the dispatcher).
void dequantizeLegacy(DType type, const void *src, float *dst, int64_t n);
void quantizeLegacy(DType type, const float *src, void *dst, int64_t n);
void dequantizeK(DType type, const void *src, float *dst, int64_t n);
void quantizeK(DType type, const float *src, void *dst, int64_t n);
void dequantizeNf4(const void *src, float *dst, int64_t n);
void quantizeNf4(const float *src, void *dst, int64_t n);

} // namespace lathe::quant
