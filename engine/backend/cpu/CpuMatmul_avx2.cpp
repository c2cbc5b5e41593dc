// AVX2 + FMA + F16C matmul kernels for f32 activations (compiled with -mavx2 -mfma
// -mf16c; called only when CpuFeatures reports AVX2). Same scheme as the AVX-512 file:
// a decoder turns each 32-element chunk of a weight row into four 8-lane f32 vectors in
// registers; for a batch the tile loop FMAs the chunks of 2 weight rows into 2
// activation rows (all the 16 ymm registers allow), one accumulator per pair in a fixed
// order, and a single activation row takes the streaming dotRow. Helpers have internal linkage only (see the note in CpuMatmul_avx512.cpp).
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

// One chunk of C weight rows into R activation rows (rows of xc are ldx apart). Each
// activation vector is loaded once and used by all C weight rows.
template <int C, int R>
inline void fmaChunk(const Chunk (&v)[C], const float *const (&xc)[R], __m256 (&acc)[C][R])
{
    for (int r = 0; r < R; ++r)
        for (int i = 0; i < 4; ++i) {
            const __m256 xi = _mm256_loadu_ps(xc[r] + 8 * i);
            for (int c = 0; c < C; ++c)
                acc[c][r] = _mm256_fmadd_ps(v[c][i], xi, acc[c][r]);
        }
}

// C weight rows x R activation rows over all of K (contract in CpuMatmulKernels.h);
// one accumulator per pair, fed the chunk's four vectors in order. Missing rows of a
// partial tile alias row 0 and are not stored.
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
    __m256 acc[C][R];
    for (int c = 0; c < C; ++c)
        for (int r = 0; r < R; ++r)
            acc[c][r] = _mm256_setzero_ps();
    constexpr int kChunks = D::kBlock / 32;
    const int64_t nb = K / D::kBlock;
    for (int64_t b = 0; b < nb; ++b) {
        typename D::State s[C];
        for (int c = 0; c < C; ++c)
            D::begin(wr[c] + b * D::kBytes, s[c]);
#pragma GCC unroll 8
        for (int j = 0; j < kChunks; ++j) {
            Chunk v[C];
            for (int c = 0; c < C; ++c)
                D::chunk(wr[c] + b * D::kBytes, s[c], j, v[c]);
            const float *xc[R];
            for (int r = 0; r < R; ++r)
                xc[r] = xr[r] + b * D::kBlock + j * 32;
            fmaChunk<C, R>(v, xc, acc);
        }
    }
    if constexpr (D::kPlain) {
        const int64_t kt = nb * 32, rest = K - kt;
        if (rest > 0) { // zero-padded copies of the last partial chunk, same FMA order
            alignas(32) float wt[C][32] = {}, xt[R][32] = {};
            for (int64_t k = 0; k < rest; ++k) {
                for (int c = 0; c < C; ++c)
                    wt[c][k] = D::one(wr[c], kt + k);
                for (int r = 0; r < R; ++r)
                    xt[r][k] = xr[r][kt + k];
            }
            Chunk v[C];
            const float *xc[R];
            for (int c = 0; c < C; ++c)
                for (int i = 0; i < 4; ++i)
                    v[c][i] = _mm256_load_ps(wt[c] + 8 * i);
            for (int r = 0; r < R; ++r)
                xc[r] = xt[r];
            fmaChunk<C, R>(v, xc, acc);
        }
    }
    for (int r = 0; r < R; ++r)
        for (int c = 0; c < C; ++c)
            if (r < rows && c < cols)
                out[r * ldo + c] = hsum(acc[c][r]);
}

constexpr int kCols = 2, kRows = 2; // 4 accumulators + 8 weight vectors + a load of 16 ymm

// Decode (one activation row): one weight row at a time, read in order, two
// accumulators alternating over the chunk's vectors (see dotRow in CpuMatmul_avx512.cpp).
template <class D>
float dotRow(const uint8_t *w, const float *x, int64_t K)
{
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    auto fma4 = [&](const Chunk &v, const float *xc) {
        a0 = _mm256_fmadd_ps(v[0], _mm256_loadu_ps(xc), a0);
        a1 = _mm256_fmadd_ps(v[1], _mm256_loadu_ps(xc + 8), a1);
        a0 = _mm256_fmadd_ps(v[2], _mm256_loadu_ps(xc + 16), a0);
        a1 = _mm256_fmadd_ps(v[3], _mm256_loadu_ps(xc + 24), a1);
    };
    constexpr int kChunks = D::kBlock / 32;
    const int64_t nb = K / D::kBlock;
    for (int64_t b = 0; b < nb; ++b) {
        const uint8_t *blk = w + b * D::kBytes;
        typename D::State s;
        D::begin(blk, s);
#pragma GCC unroll 8
        for (int j = 0; j < kChunks; ++j) {
            Chunk v;
            D::chunk(blk, s, j, v);
            fma4(v, x + b * D::kBlock + j * 32);
        }
    }
    if constexpr (D::kPlain) {
        const int64_t kt = nb * 32, rest = K - kt;
        if (rest > 0) { // zero-padded copies of the last partial chunk
            alignas(32) float wt[32] = {}, xt[32] = {};
            for (int64_t k = 0; k < rest; ++k) {
                wt[k] = D::one(w, kt + k);
                xt[k] = x[kt + k];
            }
            Chunk v;
            for (int i = 0; i < 4; ++i)
                v[i] = _mm256_load_ps(wt + 8 * i);
            fma4(v, xt);
        }
    }
    return hsum(_mm256_add_ps(a0, a1));
}

template <class D>
void dotRows(const uint8_t *w, size_t rb, int cols, const float *x, int64_t ldx, int rows, int64_t K, float *out,
             int64_t ldo)
{
    if (rows == 1)
        return dotTile<D, kCols, 1>(w, rb, cols, x, ldx, rows, K, out, ldo);
    return dotTile<D, kCols, kRows>(w, rb, cols, x, ldx, rows, K, out, ldo);
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

const MatmulKernels &avx2Kernels()
{
    static const MatmulKernels k = makeKernels();
    return k;
}

} // namespace lathe::cpu::detail
