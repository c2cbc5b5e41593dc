// AVX2 + FMA + F16C matmul kernels (compiled with -mavx2 -mfma -mf16c; called only when
// CpuFeatures reports AVX2). Same scheme as the AVX-512 file: a decoder turns each
// 32-element chunk of a weight row into four 8-lane f32 vectors in registers and the
// tile loop FMAs them into 1..4 activation rows, two accumulators per row in a fixed
// order. Helpers have internal linkage only (see the note in CpuMatmul_avx512.cpp).
#include "backend/cpu/CpuMatmulKernels.h"
#include "core/QuantFormats.h"

#include <cstring>
#include <immintrin.h>

namespace lathe::cpu::detail {

namespace {

using namespace lathe::quant;

using Chunk = __m256[4];

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

inline __m128i load16(const uint8_t *p) { return _mm_loadu_si128(reinterpret_cast<const __m128i *>(p)); }
inline __m128i low4(__m128i q) { return _mm_and_si128(q, _mm_set1_epi8(0x0F)); }
inline __m128i high4(__m128i q) { return _mm_and_si128(_mm_srli_epi16(q, 4), _mm_set1_epi8(0x0F)); }

// Bytes 0..7 and 8..15 of b (unsigned) as two f32 vectors.
inline void bytesToFloat(__m128i b, __m256 &lo, __m256 &hi)
{
    lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
    hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)));
}

inline void signedBytesToFloat(__m128i b, __m256 &lo, __m256 &hi)
{
    lo = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
    hi = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8)));
}

// 16 bits of a word -> a byte mask of 16 where the bit is set (bit i -> byte i).
inline __m128i bitsTo16(uint32_t bits)
{
    const __m128i spread = _mm_shuffle_epi8(_mm_set1_epi16(short(bits & 0xFFFF)),
                                            _mm_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1));
    const __m128i sel = _mm_setr_epi8(1, 2, 4, 8, 16, 32, 64, char(128), 1, 2, 4, 8, 16, 32, 64, char(128));
    return _mm_and_si128(_mm_cmpeq_epi8(_mm_and_si128(spread, sel), sel), _mm_set1_epi8(16));
}

// ---- decoders ---------------------------------------------------------------------
// As in CpuMatmul_avx512.cpp: begin() reads a block header once, chunk(j) yields
// elements [32j, 32j + 32) of the block as four 8-lane vectors. Plain types use
// 32-element "blocks" and decode a partial tail one element at a time (one()).

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
    static void chunk(const uint8_t *b, const State &, int, Chunk &v)
    {
        const float *p = reinterpret_cast<const float *>(b);
        for (int i = 0; i < 4; ++i)
            v[i] = _mm256_loadu_ps(p + 8 * i);
    }
    static float one(const uint8_t *w, int64_t k) { return floatAt(w + 4 * k); }
};

struct DecF16 : PlainBase<uint16_t>
{
    static void chunk(const uint8_t *b, const State &, int, Chunk &v)
    {
        for (int i = 0; i < 4; ++i)
            v[i] = _mm256_cvtph_ps(load16(b + 16 * i));
    }
    static float one(const uint8_t *w, int64_t k) { return halfAt(w + 2 * k); }
};

struct DecBf16 : PlainBase<uint16_t>
{
    static void chunk(const uint8_t *b, const State &, int, Chunk &v)
    {
        for (int i = 0; i < 4; ++i)
            v[i] = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load16(b + 16 * i)), 16));
    }
    static float one(const uint8_t *w, int64_t k)
    {
        uint16_t h;
        std::memcpy(&h, w + 2 * k, 2);
        const uint32_t bits = uint32_t(h) << 16;
        float f;
        std::memcpy(&f, &bits, 4);
        return f;
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

// value = q * d + off for four vectors of codes.
inline void scaleOffset(Chunk &v, __m256 d, __m256 off)
{
    for (int i = 0; i < 4; ++i)
        v[i] = _mm256_fmadd_ps(v[i], d, off);
}

struct DecQ8_0 : Small<BlockQ8_0>
{
    static void chunk(const uint8_t *b, const State &, int, Chunk &v)
    {
        const __m256 d = _mm256_set1_ps(halfAt(b));
        signedBytesToFloat(load16(b + 2), v[0], v[1]);
        signedBytesToFloat(load16(b + 18), v[2], v[3]);
        for (int i = 0; i < 4; ++i)
            v[i] = _mm256_mul_ps(v[i], d);
    }
};

struct DecQ4_0 : Small<BlockQ4_0>
{
    static void chunk(const uint8_t *b, const State &, int, Chunk &v)
    {
        const float d = halfAt(b);
        const __m128i q = load16(b + 2);
        bytesToFloat(low4(q), v[0], v[1]);
        bytesToFloat(high4(q), v[2], v[3]);
        scaleOffset(v, _mm256_set1_ps(d), _mm256_set1_ps(-8.0f * d));
    }
};

struct DecQ4_1 : Small<BlockQ4_1>
{
    static void chunk(const uint8_t *b, const State &, int, Chunk &v)
    {
        const __m128i q = load16(b + 4);
        bytesToFloat(low4(q), v[0], v[1]);
        bytesToFloat(high4(q), v[2], v[3]);
        scaleOffset(v, _mm256_set1_ps(halfAt(b)), _mm256_set1_ps(halfAt(b + 2)));
    }
};

inline void fiveBit(const uint8_t *qhp, const uint8_t *qs, Chunk &v)
{
    uint32_t qh;
    std::memcpy(&qh, qhp, 4);
    const __m128i q = load16(qs);
    bytesToFloat(_mm_or_si128(low4(q), bitsTo16(qh)), v[0], v[1]);
    bytesToFloat(_mm_or_si128(high4(q), bitsTo16(qh >> 16)), v[2], v[3]);
}

struct DecQ5_0 : Small<BlockQ5_0>
{
    static void chunk(const uint8_t *b, const State &, int, Chunk &v)
    {
        const float d = halfAt(b);
        fiveBit(b + 2, b + 6, v);
        scaleOffset(v, _mm256_set1_ps(d), _mm256_set1_ps(-16.0f * d));
    }
};

struct DecQ5_1 : Small<BlockQ5_1>
{
    static void chunk(const uint8_t *b, const State &, int, Chunk &v)
    {
        fiveBit(b + 4, b + 8, v);
        scaleOffset(v, _mm256_set1_ps(halfAt(b)), _mm256_set1_ps(halfAt(b + 2)));
    }
};

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

// Q4_K / Q5_K: see CpuMatmul_avx512.cpp.
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
    static void chunk(const uint8_t *b, const State &s, int j, Chunk &v)
    {
        const uint8_t *qs = b + (kFive ? 48 : 16) + (j >> 1) * 32;
        __m128i q0 = load16(qs), q1 = load16(qs + 16);
        q0 = (j & 1) ? high4(q0) : low4(q0);
        q1 = (j & 1) ? high4(q1) : low4(q1);
        if constexpr (kFive) {
            const __m128i bit = _mm_set1_epi8(char(1 << j)), sixteen = _mm_set1_epi8(16);
            const __m128i h0 = _mm_cmpeq_epi8(_mm_and_si128(load16(b + 16), bit), bit);
            const __m128i h1 = _mm_cmpeq_epi8(_mm_and_si128(load16(b + 32), bit), bit);
            q0 = _mm_or_si128(q0, _mm_and_si128(h0, sixteen));
            q1 = _mm_or_si128(q1, _mm_and_si128(h1, sixteen));
        }
        bytesToFloat(q0, v[0], v[1]);
        bytesToFloat(q1, v[2], v[3]);
        const __m256 vd = _mm256_set1_ps(s.scale[j]), vm = _mm256_set1_ps(s.min[j]);
        for (int i = 0; i < 4; ++i)
            v[i] = _mm256_fmsub_ps(v[i], vd, vm);
    }
};

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
    static void chunk(const uint8_t *b, const State &s, int j, Chunk &v)
    {
        const int h = j >> 2, g = j & 3;
        const uint8_t *ql = b + 64 * h + 32 * (g & 1);
        const uint8_t *qh = b + 128 + 32 * h;
        __m128i l0 = load16(ql), l1 = load16(ql + 16);
        l0 = g >= 2 ? high4(l0) : low4(l0);
        l1 = g >= 2 ? high4(l1) : low4(l1);
        const __m128i three = _mm_set1_epi8(3);
        const __m128i h0 = _mm_and_si128(_mm_srli_epi16(load16(qh), 2 * g), three);
        const __m128i h1 = _mm_and_si128(_mm_srli_epi16(load16(qh + 16), 2 * g), three);
        bytesToFloat(_mm_or_si128(l0, _mm_slli_epi16(h0, 4)), v[0], v[1]);
        bytesToFloat(_mm_or_si128(l1, _mm_slli_epi16(h1, 4)), v[2], v[3]);
        const __m256 s0 = _mm256_set1_ps(s.scale[8 * h + 2 * g]), s1 = _mm256_set1_ps(s.scale[8 * h + 2 * g + 1]);
        const __m256 off = _mm256_set1_ps(-32.0f);
        v[0] = _mm256_mul_ps(_mm256_add_ps(v[0], off), s0);
        v[1] = _mm256_mul_ps(_mm256_add_ps(v[1], off), s0);
        v[2] = _mm256_mul_ps(_mm256_add_ps(v[2], off), s1);
        v[3] = _mm256_mul_ps(_mm256_add_ps(v[3], off), s1);
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
    static void chunk(const uint8_t *b, const State &s, int j, Chunk &v)
    {
        const uint8_t *qs = b + 4 + j * 32;
        const __m256 d = _mm256_set1_ps(s.d);
        signedBytesToFloat(load16(qs), v[0], v[1]);
        signedBytesToFloat(load16(qs + 16), v[2], v[3]);
        for (int i = 0; i < 4; ++i)
            v[i] = _mm256_mul_ps(v[i], d);
    }
};

// NF4: a 16-entry lookup from two 8-entry permutes, blended on bit 3 of the code.
struct DecNf4
{
    static constexpr bool kPlain = false;
    static constexpr int kBlock = 64, kBytes = int(sizeof(BlockNf4));
    struct State
    {
        float absmax;
    };
    static void begin(const uint8_t *b, State &s) { s.absmax = floatAt(b + 32); }
    static __m256 lookup(__m256i idx, __m256 lo, __m256 hi)
    {
        const __m256 upper = _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)); // bit 3 -> sign
        return _mm256_blendv_ps(_mm256_permutevar8x32_ps(lo, idx), _mm256_permutevar8x32_ps(hi, idx), upper);
    }
    static void chunk(const uint8_t *b, const State &s, int j, Chunk &v)
    {
        const __m128i q = load16(b + 16 * j);
        const __m256 lo = _mm256_loadu_ps(kNf4Levels), hi = _mm256_loadu_ps(kNf4Levels + 8);
        const __m256 a = _mm256_set1_ps(s.absmax);
        const __m128i i0 = _mm_unpacklo_epi8(low4(q), high4(q)), i1 = _mm_unpackhi_epi8(low4(q), high4(q));
        const __m256i idx[4] = {_mm256_cvtepu8_epi32(i0), _mm256_cvtepu8_epi32(_mm_srli_si128(i0, 8)),
                                _mm256_cvtepu8_epi32(i1), _mm256_cvtepu8_epi32(_mm_srli_si128(i1, 8))};
        for (int i = 0; i < 4; ++i)
            v[i] = _mm256_mul_ps(lookup(idx[i], lo, hi), a);
    }
};

// ---- the tile loop ------------------------------------------------------------------

inline float hsum(__m256 v)
{
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

template <int R>
inline void fmaChunk(const Chunk &v, const float *xc, int64_t ldx, __m256 *a0, __m256 *a1)
{
    for (int r = 0; r < R; ++r) {
        const float *xr = xc + r * ldx;
        a0[r] = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(xr), a0[r]);
        a1[r] = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(xr + 8), a1[r]);
        a0[r] = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(xr + 16), a0[r]);
        a1[r] = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(xr + 24), a1[r]);
    }
}

// The slice contract is in CpuMatmulKernels.h; acc holds each row's two accumulators.
template <class D, int R>
void dotTile(const uint8_t *w, const float *x, int64_t ldx, int64_t K, int64_t k0, int64_t k1, float *acc,
             float *out, int64_t ldo)
{
    __m256 a0[R], a1[R];
    for (int r = 0; r < R; ++r) {
        a0[r] = k0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(acc + r * 32);
        a1[r] = k0 == 0 ? _mm256_setzero_ps() : _mm256_loadu_ps(acc + r * 32 + 8);
    }
    constexpr int kChunks = D::kBlock / 32;
    const int64_t b1 = k1 / D::kBlock;
    for (int64_t b = k0 / D::kBlock; b < b1; ++b) {
        const uint8_t *blk = w + b * D::kBytes;
        typename D::State s;
        D::begin(blk, s);
#pragma GCC unroll 8
        for (int j = 0; j < kChunks; ++j) {
            Chunk v;
            D::chunk(blk, s, j, v);
            fmaChunk<R>(v, x + b * D::kBlock + j * 32, ldx, a0, a1);
        }
    }
    if constexpr (D::kPlain) {
        const int64_t kt = b1 * 32, rest = k1 - kt;
        if (rest > 0) { // zero-padded copies of the last partial chunk, same FMA order
            alignas(32) float wt[32] = {}, xt[R][32] = {};
            for (int64_t k = 0; k < rest; ++k) {
                wt[k] = D::one(w, kt + k);
                for (int r = 0; r < R; ++r)
                    xt[r][k] = x[r * ldx + kt + k];
            }
            Chunk v;
            for (int i = 0; i < 4; ++i)
                v[i] = _mm256_load_ps(wt + 8 * i);
            fmaChunk<R>(v, &xt[0][0], 32, a0, a1);
        }
    }
    if (k1 == K) {
        for (int r = 0; r < R; ++r)
            out[r * ldo] = hsum(_mm256_add_ps(a0[r], a1[r]));
    } else {
        for (int r = 0; r < R; ++r) {
            _mm256_storeu_ps(acc + r * 32, a0[r]);
            _mm256_storeu_ps(acc + r * 32 + 8, a1[r]);
        }
    }
}

template <class D>
void dotRows(const uint8_t *w, const float *x, int64_t ldx, int64_t K, int64_t k0, int64_t k1, float *acc,
             float *out, int64_t ldo, int rows)
{
    switch (rows) {
    case 1: return dotTile<D, 1>(w, x, ldx, K, k0, k1, acc, out, ldo);
    case 2: return dotTile<D, 2>(w, x, ldx, K, k0, k1, acc, out, ldo);
    case 3: return dotTile<D, 3>(w, x, ldx, K, k0, k1, acc, out, ldo);
    default: return dotTile<D, 4>(w, x, ldx, K, k0, k1, acc, out, ldo);
    }
}

MatmulKernels makeKernels()
{
    MatmulKernels k;
    k.maxRows = 4; // 8 accumulators + 4 weight vectors + a load fit the 16 ymm registers
    k.dot[size_t(DType::F32)] = dotRows<DecF32>;
    k.dot[size_t(DType::F16)] = dotRows<DecF16>;
    k.dot[size_t(DType::BF16)] = dotRows<DecBf16>;
    k.dot[size_t(DType::Q8_0)] = dotRows<DecQ8_0>;
    k.dot[size_t(DType::Q4_0)] = dotRows<DecQ4_0>;
    k.dot[size_t(DType::Q4_1)] = dotRows<DecQ4_1>;
    k.dot[size_t(DType::Q5_0)] = dotRows<DecQ5_0>;
    k.dot[size_t(DType::Q5_1)] = dotRows<DecQ5_1>;
    k.dot[size_t(DType::Q4_K)] = dotRows<DecK45<false>>;
    k.dot[size_t(DType::Q5_K)] = dotRows<DecK45<true>>;
    k.dot[size_t(DType::Q6_K)] = dotRows<DecQ6_K>;
    k.dot[size_t(DType::Q8_K)] = dotRows<DecQ8_K>;
    k.dot[size_t(DType::NF4)] = dotRows<DecNf4>;
    return k;
}

} // namespace

const MatmulKernels &avx2Kernels()
{
    static const MatmulKernels k = makeKernels();
    return k;
}

} // namespace lathe::cpu::detail
