// AVX-512 matmul kernels for f32 activations (compiled with -mavx512f/bw/vl/dq -mfma
// -mf16c; called only when CpuFeatures reports AVX-512). Each weight row is walked in
// chunks of 32 elements; a decoder turns a chunk into two 16-lane f32 vectors in
// registers. For a batch, the tile loop FMAs the chunks of 4 weight rows into 2..5
// activation rows, so each decoded chunk serves 5 rows and each loaded activation 4
// weight rows; every (weight row, activation row) pair keeps one accumulator fed in the
// same order whatever the tile shape, so a batch's results do not depend on the tiling.
// A single activation row (decode) takes dotRow instead, built for streaming. Helpers have internal linkage only: an inline function shared
// with scalar code could be emitted here with AVX-512 instructions and picked by the
// linker for everyone, so nothing from core headers with code is used.
#include "backend/cpu/CpuMatmulKernels.h"
#include "core/QuantFormats.h"

#include <cstring>

// GCC 12's avx512fintrin.h builds results from _mm512_undefined_*(), which trips a false
// -Wmaybe-uninitialized inside the header once inlined here.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace lathe::cpu::detail {

namespace {

using namespace lathe::quant;

inline float halfAt(const uint8_t *p)
{
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

inline float floatAt(const uint8_t *p)
{
    float f;
    std::memcpy(&f, p, 4);
    return f;
}

// 16 bytes (values < 256) -> 16 f32 lanes.
inline __m512 bytesToFloat(__m128i b)
{
    return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(b));
}

inline __m128i low4(__m128i q) { return _mm_and_si128(q, _mm_set1_epi8(0x0F)); }
inline __m128i high4(__m128i q) { return _mm_and_si128(_mm_srli_epi16(q, 4), _mm_set1_epi8(0x0F)); }

// ---- decoders ---------------------------------------------------------------------
// A decoder walks one block of kBlock elements (kBlock / 32 chunks of 32): begin()
// reads the block header once, chunk(j) yields elements [32j, 32j + 32) of the block
// as two 16-lane vectors. Plain types use 32-element "blocks" and also decode a partial
// tail with masks.

struct NoState
{
};

template <typename Elem>
struct PlainBase
{
    static constexpr bool kPlain = true;
    static constexpr int kBlock = 32, kBytes = 32 * int(sizeof(Elem));
    using State = NoState;
    static void begin(const uint8_t *, State &) {}
};

struct DecF32 : PlainBase<float>
{
    static void chunk(const uint8_t *b, const State &, int, __m512 &v0, __m512 &v1)
    {
        const float *p = reinterpret_cast<const float *>(b);
        v0 = _mm512_loadu_ps(p);
        v1 = _mm512_loadu_ps(p + 16);
    }
    static void tail(const uint8_t *w, int64_t k, __mmask16 m0, __mmask16 m1, __m512 &v0, __m512 &v1)
    {
        const float *p = reinterpret_cast<const float *>(w) + k;
        v0 = _mm512_maskz_loadu_ps(m0, p);
        v1 = _mm512_maskz_loadu_ps(m1, p + 16);
    }
};

struct DecF16 : PlainBase<uint16_t>
{
    static void chunk(const uint8_t *b, const State &, int, __m512 &v0, __m512 &v1)
    {
        v0 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(b)));
        v1 = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(b + 32)));
    }
    static void tail(const uint8_t *w, int64_t k, __mmask16 m0, __mmask16 m1, __m512 &v0, __m512 &v1)
    {
        const uint16_t *p = reinterpret_cast<const uint16_t *>(w) + k;
        v0 = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m0, p));
        v1 = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m1, p + 16));
    }
};

struct DecBf16 : PlainBase<uint16_t>
{
    static __m512 widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }
    static void chunk(const uint8_t *b, const State &, int, __m512 &v0, __m512 &v1)
    {
        v0 = widen(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(b)));
        v1 = widen(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(b + 32)));
    }
    static void tail(const uint8_t *w, int64_t k, __mmask16 m0, __mmask16 m1, __m512 &v0, __m512 &v1)
    {
        const uint16_t *p = reinterpret_cast<const uint16_t *>(w) + k;
        v0 = widen(_mm256_maskz_loadu_epi16(m0, p));
        v1 = widen(_mm256_maskz_loadu_epi16(m1, p + 16));
    }
};

template <typename Block>
struct Small // 32-element ggml blocks: the header is read in chunk()
{
    static constexpr bool kPlain = false;
    static constexpr int kBlock = 32, kBytes = int(sizeof(Block));
    using State = NoState;
    static void begin(const uint8_t *, State &) {}
};

struct DecQ8_0 : Small<BlockQ8_0>
{
    static void chunk(const uint8_t *b, const State &, int, __m512 &v0, __m512 &v1)
    {
        const __m512 d = _mm512_set1_ps(halfAt(b));
        v0 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 2)))), d);
        v1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + 18)))), d);
    }
};

struct DecQ4_0 : Small<BlockQ4_0>
{
    static void chunk(const uint8_t *b, const State &, int, __m512 &v0, __m512 &v1)
    {
        const float d = halfAt(b);
        const __m512 vd = _mm512_set1_ps(d), off = _mm512_set1_ps(-8.0f * d);
        const __m128i q = _mm_loadu_si128((const __m128i *)(b + 2));
        v0 = _mm512_fmadd_ps(bytesToFloat(low4(q)), vd, off);
        v1 = _mm512_fmadd_ps(bytesToFloat(high4(q)), vd, off);
    }
};

struct DecQ4_1 : Small<BlockQ4_1>
{
    static void chunk(const uint8_t *b, const State &, int, __m512 &v0, __m512 &v1)
    {
        const __m512 vd = _mm512_set1_ps(halfAt(b)), vm = _mm512_set1_ps(halfAt(b + 2));
        const __m128i q = _mm_loadu_si128((const __m128i *)(b + 4));
        v0 = _mm512_fmadd_ps(bytesToFloat(low4(q)), vd, vm);
        v1 = _mm512_fmadd_ps(bytesToFloat(high4(q)), vd, vm);
    }
};

// Q5_0 / Q5_1: bit j of the qh word is the fifth bit of element j; a mask register
// adds it straight from the word.
inline void fiveBit(const uint8_t *qhp, const uint8_t *qs, __m512 &f0, __m512 &f1)
{
    uint32_t qh;
    std::memcpy(&qh, qhp, 4);
    const __m128i q = _mm_loadu_si128((const __m128i *)qs);
    const __m128i sixteen = _mm_set1_epi8(16);
    f0 = bytesToFloat(_mm_mask_add_epi8(low4(q), __mmask16(qh), low4(q), sixteen));
    f1 = bytesToFloat(_mm_mask_add_epi8(high4(q), __mmask16(qh >> 16), high4(q), sixteen));
}

struct DecQ5_0 : Small<BlockQ5_0>
{
    static void chunk(const uint8_t *b, const State &, int, __m512 &v0, __m512 &v1)
    {
        const float d = halfAt(b);
        const __m512 vd = _mm512_set1_ps(d), off = _mm512_set1_ps(-16.0f * d);
        __m512 f0, f1;
        fiveBit(b + 2, b + 6, f0, f1);
        v0 = _mm512_fmadd_ps(f0, vd, off);
        v1 = _mm512_fmadd_ps(f1, vd, off);
    }
};

struct DecQ5_1 : Small<BlockQ5_1>
{
    static void chunk(const uint8_t *b, const State &, int, __m512 &v0, __m512 &v1)
    {
        const __m512 vd = _mm512_set1_ps(halfAt(b)), vm = _mm512_set1_ps(halfAt(b + 2));
        __m512 f0, f1;
        fiveBit(b + 4, b + 8, f0, f1);
        v0 = _mm512_fmadd_ps(f0, vd, vm);
        v1 = _mm512_fmadd_ps(f1, vd, vm);
    }
};

// K-quant 6-bit scale/min of sub-block j (see QuantFormats.h scaleMinK4).
inline void scaleMin(int j, const uint8_t *q, int &sc, int &m)
{
    if (j < 4) {
        sc = q[j] & 63;
        m = q[j + 4] & 63;
    } else {
        sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

// Q4_K / Q5_K: chunk j is sub-block j, the nibbles of 32-byte group j / 2 (low for
// even j, high for odd), value d*sc*q - dmin*m with the 8 scales decoded in begin().
template <bool kFive>
struct DecK45
{
    static constexpr bool kPlain = false;
    static constexpr int kBlock = 256, kBytes = kFive ? 176 : 144;
    struct State
    {
        float scale[8], min[8];
    };
    static void begin(const uint8_t *b, State &s)
    {
        const float d = halfAt(b), dmin = halfAt(b + 2);
        for (int j = 0; j < 8; ++j) {
            int sc, m;
            scaleMin(j, b + 4, sc, m);
            s.scale[j] = d * float(sc);
            s.min[j] = dmin * float(m);
        }
    }
    static void chunk(const uint8_t *b, const State &s, int j, __m512 &v0, __m512 &v1)
    {
        const uint8_t *qs = b + (kFive ? 48 : 16) + (j >> 1) * 32;
        __m128i q0 = _mm_loadu_si128((const __m128i *)qs), q1 = _mm_loadu_si128((const __m128i *)(qs + 16));
        q0 = (j & 1) ? high4(q0) : low4(q0);
        q1 = (j & 1) ? high4(q1) : low4(q1);
        if constexpr (kFive) {
            const __m128i bit = _mm_set1_epi8(char(1 << j)), sixteen = _mm_set1_epi8(16);
            const __m128i h0 = _mm_loadu_si128((const __m128i *)(b + 16));
            const __m128i h1 = _mm_loadu_si128((const __m128i *)(b + 32));
            q0 = _mm_mask_add_epi8(q0, _mm_test_epi8_mask(h0, bit), q0, sixteen);
            q1 = _mm_mask_add_epi8(q1, _mm_test_epi8_mask(h1, bit), q1, sixteen);
        }
        const __m512 vd = _mm512_set1_ps(s.scale[j]), vm = _mm512_set1_ps(s.min[j]);
        v0 = _mm512_fmsub_ps(bytesToFloat(q0), vd, vm);
        v1 = _mm512_fmsub_ps(bytesToFloat(q1), vd, vm);
    }
};

// Q6_K chunk j: half h = j / 4, group g = j % 4. Low nibbles from ql[64h + 32(g&1) ..]
// (high nibble when g >= 2), two high bits from qh[32h ..] at bit 2g; the chunk's
// halves use scales 8h + 2g and 8h + 2g + 1.
struct DecQ6_K
{
    static constexpr bool kPlain = false;
    static constexpr int kBlock = 256, kBytes = int(sizeof(BlockQ6_K));
    struct State
    {
        float scale[16];
    };
    static void begin(const uint8_t *b, State &s)
    {
        const float d = halfAt(b + 208);
        for (int i = 0; i < 16; ++i)
            s.scale[i] = d * float(int8_t(b[192 + i]));
    }
    static void chunk(const uint8_t *b, const State &s, int j, __m512 &v0, __m512 &v1)
    {
        const int h = j >> 2, g = j & 3;
        const uint8_t *ql = b + 64 * h + 32 * (g & 1);
        const uint8_t *qh = b + 128 + 32 * h;
        __m128i l0 = _mm_loadu_si128((const __m128i *)ql), l1 = _mm_loadu_si128((const __m128i *)(ql + 16));
        l0 = g >= 2 ? high4(l0) : low4(l0);
        l1 = g >= 2 ? high4(l1) : low4(l1);
        const __m128i three = _mm_set1_epi8(3);
        // (h << 4) within bytes: h <= 3 after the mask, so 16-bit shifts cannot carry.
        const __m128i h0 = _mm_and_si128(_mm_srli_epi16(_mm_loadu_si128((const __m128i *)qh), 2 * g), three);
        const __m128i h1 = _mm_and_si128(_mm_srli_epi16(_mm_loadu_si128((const __m128i *)(qh + 16)), 2 * g), three);
        l0 = _mm_or_si128(l0, _mm_slli_epi16(h0, 4));
        l1 = _mm_or_si128(l1, _mm_slli_epi16(h1, 4));
        const __m512 off = _mm512_set1_ps(-32.0f);
        v0 = _mm512_mul_ps(_mm512_add_ps(bytesToFloat(l0), off), _mm512_set1_ps(s.scale[8 * h + 2 * g]));
        v1 = _mm512_mul_ps(_mm512_add_ps(bytesToFloat(l1), off), _mm512_set1_ps(s.scale[8 * h + 2 * g + 1]));
    }
};

struct DecQ8_K
{
    static constexpr bool kPlain = false;
    static constexpr int kBlock = 256, kBytes = int(sizeof(BlockQ8_K));
    struct State
    {
        float d;
    };
    static void begin(const uint8_t *b, State &s) { s.d = floatAt(b); }
    static void chunk(const uint8_t *b, const State &s, int j, __m512 &v0, __m512 &v1)
    {
        const uint8_t *qs = b + 4 + j * 32;
        const __m512 d = _mm512_set1_ps(s.d);
        v0 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)qs))), d);
        v1 = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(qs + 16)))), d);
    }
};

// NF4 chunk j: bytes 16j.. of the block, element 2i in the low nibble of byte i.
// Interleaving low/high nibbles restores element order; a permute looks up the level.
struct DecNf4
{
    static constexpr bool kPlain = false;
    static constexpr int kBlock = 64, kBytes = int(sizeof(BlockNf4));
    struct State
    {
        float absmax;
    };
    static void begin(const uint8_t *b, State &s) { s.absmax = floatAt(b + 32); }
    static void chunk(const uint8_t *b, const State &s, int j, __m512 &v0, __m512 &v1)
    {
        const __m128i q = _mm_loadu_si128((const __m128i *)(b + 16 * j));
        const __m512 levels = _mm512_loadu_ps(kNf4Levels);
        const __m512 a = _mm512_set1_ps(s.absmax);
        const __m128i lo = low4(q), hi = high4(q);
        v0 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm_unpacklo_epi8(lo, hi)), levels), a);
        v1 = _mm512_mul_ps(_mm512_permutexvar_ps(_mm512_cvtepu8_epi32(_mm_unpackhi_epi8(lo, hi)), levels), a);
    }
};

// ---- the tile loop ------------------------------------------------------------------

// C weight rows x R activation rows over all of K (contract in CpuMatmulKernels.h).
// Each (weight row, activation row) pair owns one accumulator that takes the chunk's
// two halves in turn; missing rows of a partial tile alias row 0 and are not stored.
template <class D, int C, int R>
void dotTile(const uint8_t *w, size_t rb, int cols, const float *x, int64_t ldx, int rows, int64_t K, float *out,
             int64_t ldo)
{
    const uint8_t *wr[C];
    const float *xr[R];
    for (int c = 0; c < C; ++c)
        wr[c] = w + size_t(c < cols ? c : 0) * rb;
    for (int r = 0; r < R; ++r)
        xr[r] = x + (r < rows ? r : 0) * ldx;
    __m512 acc[C][R];
    for (int c = 0; c < C; ++c)
        for (int r = 0; r < R; ++r)
            acc[c][r] = _mm512_setzero_ps();
    constexpr int kChunks = D::kBlock / 32;
    const int64_t nb = K / D::kBlock;
    for (int64_t b = 0; b < nb; ++b) {
        typename D::State s[C];
        for (int c = 0; c < C; ++c)
            D::begin(wr[c] + b * D::kBytes, s[c]);
#pragma GCC unroll 8
        for (int j = 0; j < kChunks; ++j) {
            const int64_t k = b * D::kBlock + j * 32;
            __m512 v[C][2];
            for (int c = 0; c < C; ++c)
                D::chunk(wr[c] + b * D::kBytes, s[c], j, v[c][0], v[c][1]);
            for (int r = 0; r < R; ++r) {
                const __m512 x0 = _mm512_loadu_ps(xr[r] + k), x1 = _mm512_loadu_ps(xr[r] + k + 16);
                for (int c = 0; c < C; ++c) {
                    acc[c][r] = _mm512_fmadd_ps(v[c][0], x0, acc[c][r]);
                    acc[c][r] = _mm512_fmadd_ps(v[c][1], x1, acc[c][r]);
                }
            }
        }
    }
    if constexpr (D::kPlain) {
        const int64_t k = nb * 32;
        const int rest = int(K - k);
        if (rest > 0) { // masked lanes load zeros and never fault
            const __mmask16 m0 = rest >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << rest) - 1);
            const __mmask16 m1 = rest > 16 ? __mmask16((1u << (rest - 16)) - 1) : __mmask16(0);
            __m512 v[C][2];
            for (int c = 0; c < C; ++c)
                D::tail(wr[c], k, m0, m1, v[c][0], v[c][1]);
            for (int r = 0; r < R; ++r) {
                const __m512 x0 = _mm512_maskz_loadu_ps(m0, xr[r] + k), x1 = _mm512_maskz_loadu_ps(m1, xr[r] + k + 16);
                for (int c = 0; c < C; ++c) {
                    acc[c][r] = _mm512_fmadd_ps(v[c][0], x0, acc[c][r]);
                    acc[c][r] = _mm512_fmadd_ps(v[c][1], x1, acc[c][r]);
                }
            }
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            if (r < rows && c < cols)
                out[r * ldo + c] = _mm512_reduce_add_ps(acc[c][r]);
}

constexpr int kCols = 4, kRows = 5; // 20 accumulators + 8 weight vectors + 2 loads of 32 zmm

// Decode (one activation row): one weight row at a time, read in order (a tile's C rows
// are C interleaved streams, which the hardware prefetcher follows poorly, and decode is
// bound by memory), with two accumulators taking the chunk's halves to hide the FMA
// latency. So a row alone rounds differently from the same row in a batch.
template <class D>
float dotRow(const uint8_t *w, const float *x, int64_t K)
{
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    constexpr int kChunks = D::kBlock / 32;
    const int64_t nb = K / D::kBlock;
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t *blk = w + b * D::kBytes;
        typename D::State s;
        D::begin(blk, s);
#pragma GCC unroll 8
        for (int j = 0; j < kChunks; ++j) {
            __m512 v0, v1;
            D::chunk(blk, s, j, v0, v1);
            const float *xc = x + b * D::kBlock + j * 32;
            a0 = _mm512_fmadd_ps(v0, _mm512_loadu_ps(xc), a0);
            a1 = _mm512_fmadd_ps(v1, _mm512_loadu_ps(xc + 16), a1);
        }
    }
    if constexpr (D::kPlain) {
        const int rest = int(K - nb * 32);
        if (rest > 0) {
            const __mmask16 m0 = rest >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << rest) - 1);
            const __mmask16 m1 = rest > 16 ? __mmask16((1u << (rest - 16)) - 1) : __mmask16(0);
            __m512 v0, v1;
            D::tail(w, nb * 32, m0, m1, v0, v1);
            a0 = _mm512_fmadd_ps(v0, _mm512_maskz_loadu_ps(m0, x + nb * 32), a0);
            a1 = _mm512_fmadd_ps(v1, _mm512_maskz_loadu_ps(m1, x + nb * 32 + 16), a1);
        }
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
}

template <class D>
void dotRows(const uint8_t *w, size_t rb, int cols, const float *x, int64_t ldx, int rows, int64_t K, float *out,
             int64_t ldo)
{
    switch (rows) {
    case 1: return dotTile<D, kCols, 1>(w, rb, cols, x, ldx, rows, K, out, ldo);
    case 2: return dotTile<D, kCols, 2>(w, rb, cols, x, ldx, rows, K, out, ldo);
    case 3: return dotTile<D, kCols, 3>(w, rb, cols, x, ldx, rows, K, out, ldo);
    case 4: return dotTile<D, kCols, 4>(w, rb, cols, x, ldx, rows, K, out, ldo);
    default: return dotTile<D, kCols, kRows>(w, rb, cols, x, ldx, rows, K, out, ldo);
    }
}

template <class D>
void decodeRows(const uint8_t *w, size_t rb, int64_t rows, const float *x, int64_t K, float *out)
{
    for (int64_t n = 0; n < rows; ++n)
        out[n] = dotRow<D>(w + size_t(n) * rb, x, K);
}

MatmulKernels makeKernels()
{
    MatmulKernels k;
    k.maxCols = kCols;
    k.maxRows = kRows;
    k.tile[size_t(DType::F32)] = dotRows<DecF32>;
    k.decode[size_t(DType::F32)] = decodeRows<DecF32>;
    k.tile[size_t(DType::F16)] = dotRows<DecF16>;
    k.decode[size_t(DType::F16)] = decodeRows<DecF16>;
    k.tile[size_t(DType::BF16)] = dotRows<DecBf16>;
    k.decode[size_t(DType::BF16)] = decodeRows<DecBf16>;
    k.tile[size_t(DType::Q8_0)] = dotRows<DecQ8_0>;
    k.decode[size_t(DType::Q8_0)] = decodeRows<DecQ8_0>;
    k.tile[size_t(DType::Q4_0)] = dotRows<DecQ4_0>;
    k.decode[size_t(DType::Q4_0)] = decodeRows<DecQ4_0>;
    k.tile[size_t(DType::Q4_1)] = dotRows<DecQ4_1>;
    k.decode[size_t(DType::Q4_1)] = decodeRows<DecQ4_1>;
    k.tile[size_t(DType::Q5_0)] = dotRows<DecQ5_0>;
    k.decode[size_t(DType::Q5_0)] = decodeRows<DecQ5_0>;
    k.tile[size_t(DType::Q5_1)] = dotRows<DecQ5_1>;
    k.decode[size_t(DType::Q5_1)] = decodeRows<DecQ5_1>;
    k.tile[size_t(DType::Q4_K)] = dotRows<DecK45<false>>;
    k.decode[size_t(DType::Q4_K)] = decodeRows<DecK45<false>>;
    k.tile[size_t(DType::Q5_K)] = dotRows<DecK45<true>>;
    k.decode[size_t(DType::Q5_K)] = decodeRows<DecK45<true>>;
    k.tile[size_t(DType::Q6_K)] = dotRows<DecQ6_K>;
    k.decode[size_t(DType::Q6_K)] = decodeRows<DecQ6_K>;
    k.tile[size_t(DType::Q8_K)] = dotRows<DecQ8_K>;
    k.decode[size_t(DType::Q8_K)] = decodeRows<DecQ8_K>;
    k.tile[size_t(DType::NF4)] = dotRows<DecNf4>;
    k.decode[size_t(DType::NF4)] = decodeRows<DecNf4>;
    return k;
}

} // namespace

const MatmulKernels &avx512Kernels()
{
    static const MatmulKernels k = makeKernels();
    return k;
}

} // namespace lathe::cpu::detail
