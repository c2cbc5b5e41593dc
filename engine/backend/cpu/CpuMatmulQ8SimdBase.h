// Part of CpuMatmulQ8Simd.h (included only from there, inside its ISA settings): the
// small vector helpers, the activation quantiser and the weight codecs, which turn each
// 32-element chunk of a quantized block into 32 unsigned 8-bit codes plus unit scales.
#pragma once

#ifndef LATHE_Q8_SIMD_PARTS
#error "include CpuMatmulQ8Simd.h, not this part"
#endif

namespace lathe::cpu::detail {

namespace {

// ---- small helpers ----------------------------------------------------------------

inline int64_t imin(int64_t a, int64_t b) { return a < b ? a : b; }

inline float halfAt(const uint8_t *p)
{
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

inline uint32_t wordAt(const uint8_t *p)
{
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

inline int32_t i32At(const int8_t *p)
{
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

inline __m128i load16(const void *p) { return _mm_loadu_si128(static_cast<const __m128i *>(p)); }
inline __m256i load32(const void *p) { return _mm256_loadu_si256(static_cast<const __m256i *>(p)); }
inline __m256i nib0(__m256i v) { return _mm256_and_si256(v, _mm256_set1_epi8(0x0F)); }
inline __m256i nib1(__m256i v) { return _mm256_and_si256(_mm256_srli_epi16(v, 4), _mm256_set1_epi8(0x0F)); }

// Shift every 16-bit lane right by a run-time count (the unrolled loops make it constant).
inline __m256i srl16(__m256i v, int n) { return _mm256_srl_epi16(v, _mm_cvtsi32_si128(n)); }

inline float hsum(__m256 v)
{
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

inline int32_t hsumI(__m256i v)
{
    const __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    const __m128i t = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    return _mm_cvtsi128_si32(_mm_add_epi32(t, _mm_shuffle_epi32(t, 0xB1)));
}

inline float hmax(__m256 v)
{
    const __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_max_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_max_ss(t, _mm_shuffle_ps(t, t, 1)));
}

// 8-bit products summed 4 to an int32 lane: acc + sum u8(u) * s8(s). Without VNNI the
// pair sums pass through 16 bits, so u * s pairs must stay below 2^15 (u <= 128).
inline __m256i dp8(__m256i acc, __m256i u, __m256i s)
{
#if LATHE_Q8_VNNI
    return _mm256_dpbusd_epi32(acc, u, s);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

// acc + pairwise products of int16 lanes summed into int32 lanes.
inline __m256i dp16(__m256i acc, __m256i a, __m256i b)
{
#if LATHE_Q8_VNNI
    return _mm256_dpwssd_epi32(acc, a, b);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
#endif
}

// 16 bytes -> 32 codes: the low nibbles (elements 0..15), then the high ones (16..31).
inline __m256i nibbles(const uint8_t *qs)
{
    const __m256i v = _mm256_broadcastsi128_si256(load16(qs));
    return nib0(_mm256_srlv_epi64(v, _mm256_setr_epi64x(0, 0, 4, 4)));
}

// Byte i = 16 where bit i of `bits` is set, else 0 (the fifth bit of Q5 codes).
inline __m256i bitsTo16(uint32_t bits)
{
#if LATHE_Q8_WIDE
    return _mm256_maskz_set1_epi8(__mmask32(bits), 16);
#else
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(int(bits)),
                                               _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2,
                                                                2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
    const __m256i sel = _mm256_set1_epi64x(int64_t(0x8040201008040201ull));
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, sel), sel), _mm256_set1_epi8(16));
#endif
}

// ---- activation quantisation ------------------------------------------------------

// f16 rounding of a block scale where llama.cpp stores one (see Q8Rows): only when the
// result is a normal f16, so huge or tiny blocks keep their f32 scale instead of
// becoming inf or losing their bits.
inline float roundScale(float v)
{
    const float r = _cvtsh_ss(_cvtss_sh(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    return std::fabs(r) >= 6.103515625e-05f && std::fabs(r) <= 65504.0f ? r : v;
}

// Bit-identical to quantizeRowScalar (CpuMatmulQ8.cpp): the same f32 products, the
// clamp before rounding, round to nearest even (MXCSR default), NaN -> -127 and d NaN.
void quantizeRow(const float *x, int64_t K, int block, int8_t *q, float *d, float *ds, int32_t *s32, int16_t *s16)
{
    const __m256 absMask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7FFFFFFF));
    const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int64_t b = 0; b < K / block; ++b) {
        const float *xb = x + b * block;
        __m256 amax = _mm256_setzero_ps(), nan = _mm256_setzero_ps();
        for (int i = 0; i < block; i += 8) {
            const __m256 v = _mm256_loadu_ps(xb + i);
            amax = _mm256_max_ps(_mm256_and_ps(v, absMask), amax); // NaN in the first operand: ignored
            nan = _mm256_or_ps(nan, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        }
        float m = hmax(amax);
        if (_mm256_movemask_ps(nan))
            m = NAN;
        const float id = m > 0.0f ? 127.0f / m : 0.0f, d32 = m / 127.0f;
        if (block == 32)
            d[b] = roundScale(d32);
        else
            d[b] = m > 0.0f ? 1.0f / id : d32;
        const __m256 vid = _mm256_set1_ps(id);
        int32_t total = 0;
        for (int i = 0; i < block; i += 32) {
            __m256i v[4];
            for (int j = 0; j < 4; ++j) {
                const __m256 p = _mm256_mul_ps(_mm256_loadu_ps(xb + i + 8 * j), vid);
                v[j] = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(p, lo), hi));
            }
            const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
            _mm256_storeu_si256(reinterpret_cast<__m256i *>(q + b * block + i),
                                _mm256_permutevar8x32_epi32(packed, order));
            const int64_t g = (b * block + i) / 16;
            s16[g] = int16_t(hsumI(_mm256_add_epi32(v[0], v[1])));
            s16[g + 1] = int16_t(hsumI(_mm256_add_epi32(v[2], v[3])));
            total += s16[g] + s16[g + 1];
        }
        if (ds)
            ds[b] = roundScale(d32 * float(total));
        if (s32)
            s32[b] = total;
    }
}

// ---- codecs: one 32-element chunk of a weight block -> 32 codes --------------------
// begin() reads a block's header; chunk(j) gives the codes of elements [32j, 32j + 32);
// unit u (kUnit elements) has scale(u) and, where kFloatOff, offset(u); intOff is
// subtracted from every code (CpuMatmulQ8Units.h).

struct Legacy
{
    static constexpr int kBlock = 32, kUnit = 32;
    struct Hdr
    {
        float d, m;
    };
    static float scale(const Hdr &h, int) { return h.d; }
    static float offset(const Hdr &h, int) { return h.m; }
};

struct CQ8_0 : Legacy
{
    static constexpr int kBytes = 34;
    static constexpr bool kSigned = !LATHE_Q8_VNNI, kFloatOff = false;
    static constexpr int kIntOff = LATHE_Q8_VNNI ? 128 : 0;
    static void begin(const uint8_t *b, Hdr &h) { h = {halfAt(b), 0.0f}; }
    static __m256i chunk(const uint8_t *b, const Hdr &, int)
    {
        const __m256i q = load32(b + 2);
        return kSigned ? q : _mm256_xor_si256(q, _mm256_set1_epi8(char(0x80)));
    }
};

struct CQ4_0 : Legacy
{
    static constexpr int kBytes = 18, kIntOff = 8;
    static constexpr bool kSigned = false, kFloatOff = false;
    static void begin(const uint8_t *b, Hdr &h) { h = {halfAt(b), 0.0f}; }
    static __m256i chunk(const uint8_t *b, const Hdr &, int) { return nibbles(b + 2); }
};

struct CQ4_1 : Legacy
{
    static constexpr int kBytes = 20, kIntOff = 0;
    static constexpr bool kSigned = false, kFloatOff = true;
    static void begin(const uint8_t *b, Hdr &h) { h = {halfAt(b), halfAt(b + 2)}; }
    static __m256i chunk(const uint8_t *b, const Hdr &, int) { return nibbles(b + 4); }
};

struct CQ5_0 : Legacy
{
    static constexpr int kBytes = 22, kIntOff = 16;
    static constexpr bool kSigned = false, kFloatOff = false;
    static void begin(const uint8_t *b, Hdr &h) { h = {halfAt(b), 0.0f}; }
    static __m256i chunk(const uint8_t *b, const Hdr &, int)
    {
        return _mm256_or_si256(nibbles(b + 6), bitsTo16(wordAt(b + 2)));
    }
};

struct CQ5_1 : Legacy
{
    static constexpr int kBytes = 24, kIntOff = 0;
    static constexpr bool kSigned = false, kFloatOff = true;
    static void begin(const uint8_t *b, Hdr &h) { h = {halfAt(b), halfAt(b + 2)}; }
    static __m256i chunk(const uint8_t *b, const Hdr &, int)
    {
        return _mm256_or_si256(nibbles(b + 8), bitsTo16(wordAt(b + 4)));
    }
};

// The 6-bit scales and mins of Q4_K/Q5_K's 8 sub-blocks, from the 12 packed bytes:
// sub-blocks 0..3 in the low 6 bits of bytes 0..3 (scales) and 4..7 (mins); 4..7 in a
// nibble of bytes 8..11 plus the top two bits of bytes 0..3 / 4..7. Four at a time.
inline void scalesMinsK4(const uint8_t *q, uint32_t sc[2], uint32_t m[2])
{
    const uint32_t a = wordAt(q), b = wordAt(q + 4), c = wordAt(q + 8);
    sc[0] = a & 0x3F3F3F3Fu;
    m[0] = b & 0x3F3F3F3Fu;
    sc[1] = (c & 0x0F0F0F0Fu) | ((a >> 2) & 0x30303030u);
    m[1] = ((c >> 4) & 0x0F0F0F0Fu) | ((b >> 2) & 0x30303030u);
}

template <bool kFive>
struct CK45
{
    static constexpr int kBlock = 256, kUnit = 32, kBytes = kFive ? 176 : 144, kIntOff = 0;
    static constexpr bool kSigned = false, kFloatOff = true;
    struct Hdr
    {
        float d, dmin;
        uint8_t sc[8], m[8];
    };
    static void begin(const uint8_t *b, Hdr &h)
    {
        h.d = halfAt(b);
        h.dmin = halfAt(b + 2);
        uint32_t sc[2], m[2];
        scalesMinsK4(b + 4, sc, m);
        std::memcpy(h.sc, sc, 8);
        std::memcpy(h.m, m, 8);
    }
    static __m256i chunk(const uint8_t *b, const Hdr &, int j)
    {
        const __m256i q = load32(b + (kFive ? 48 : 16) + 32 * (j >> 1));
        __m256i c = (j & 1) ? nib1(q) : nib0(q);
        if constexpr (kFive) {
            const __m256i bit = _mm256_and_si256(srl16(load32(b + 16), j), _mm256_set1_epi8(1));
            c = _mm256_or_si256(c, _mm256_slli_epi16(bit, 4));
        }
        return c;
    }
    static float scale(const Hdr &h, int u) { return h.d * float(h.sc[u]); }
    static float offset(const Hdr &h, int u) { return -h.dmin * float(h.m[u]); }
};

// Q6_K chunk j: half h = j / 4, group g = j % 4 (ggml's element order): low 4 bits from
// ql[64h + 32(g & 1) ..] (the high nibble when g >= 2), 2 high bits from qh[32h ..] at
// bit 2g. Units are the 16-element sub-blocks with int8 scales.
struct CQ6_K
{
    static constexpr int kBlock = 256, kUnit = 16, kBytes = 210, kIntOff = 32;
    static constexpr bool kSigned = false, kFloatOff = false;
    struct Hdr
    {
        float d;
        int8_t sc[16];
    };
    static void begin(const uint8_t *b, Hdr &h)
    {
        h.d = halfAt(b + 208);
        std::memcpy(h.sc, b + 192, 16);
    }
    static __m256i codes(const uint8_t *b, int j)
    {
        const int h = j >> 2, g = j & 3;
        const __m256i ql = load32(b + 64 * h + 32 * (g & 1));
        const __m256i hb = _mm256_and_si256(srl16(load32(b + 128 + 32 * h), 2 * g), _mm256_set1_epi8(3));
        return _mm256_or_si256(g >= 2 ? nib1(ql) : nib0(ql), _mm256_slli_epi16(hb, 4));
    }
    static __m256i chunk(const uint8_t *b, const Hdr &, int j) { return codes(b, j); }
    static float scale(const Hdr &h, int u) { return h.d * float(h.sc[u]); }
    static float offset(const Hdr &, int) { return 0.0f; }
};

} // namespace

} // namespace lathe::cpu::detail
