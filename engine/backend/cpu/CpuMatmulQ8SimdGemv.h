// Part of CpuMatmulQ8Simd.h (included only from there, inside its ISA settings): gemv,
// the decode kernels. Each weight row is walked along K once per activation row,
// streaming the weights in order; the integer sums of a block are converted once.
#pragma once

#ifndef LATHE_Q8_SIMD_PARTS
#error "include CpuMatmulQ8Simd.h, not this part"
#endif

namespace lathe::cpu::detail {

namespace {

// ---- gemv: one weight row at a time along K ----------------------------------------

struct RowView
{
    const int8_t *q;
    const float *d, *ds;
    const int32_t *s32;
    const int16_t *s;
};

inline RowView rowOf(const Q8Rows &a, int64_t t)
{
    const int64_t nb32 = a.K / 32;
    return {a.q + t * a.K, a.d + t * (a.K / a.block), a.ds ? a.ds + t * nb32 : nullptr,
            a.s32 ? a.s32 + t * nb32 : nullptr, a.s16 + t * (a.K / 16)};
}

// Legacy types: per block, codes . q in 8 int32 lanes (the lanes start at
// -intOff / 8 * sum(q), so their total carries the offset), converted and scaled by
// d_w * d_x. Two accumulators take even and odd blocks to hide the FMA latency.
template <class C>
inline __m256 blockLegacy(const uint8_t *w, const RowView &x, int64_t b, __m256 acc, float &accOff)
{
    static_assert(C::kIntOff % 8 == 0, "the offset is spread over 8 lanes");
    const uint8_t *blk = w + b * C::kBytes;
    typename C::Hdr h;
    C::begin(blk, h);
    const __m256i c = C::chunk(blk, h, 0), xq = load32(x.q + 32 * b);
    __m256i i;
    if constexpr (C::kSigned)
        i = dp8(_mm256_setzero_si256(), _mm256_sign_epi8(c, c), _mm256_sign_epi8(xq, c));
    else
        i = dp8(_mm256_set1_epi32(-(C::kIntOff / 8) * x.s32[b]), c, xq);
    if constexpr (C::kFloatOff)
        accOff += h.m * x.ds[b];
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), _mm256_set1_ps(h.d * x.d[b]), acc);
}

#if LATHE_Q8_WIDE
// Two blocks per zmm: lanes 0..7 hold block b, 8..15 block b + 1; the two blocks'
// scales and offsets are spread over their lanes by one permute each.
inline uint16_t u16At(const uint8_t *p)
{
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}

// 16 bytes of nibbles from each of two blocks -> [lo0, hi0, lo1, hi1] (16 codes each).
inline __m512i nibbles2(const uint8_t *q0, const uint8_t *q1)
{
    const __m256i both = _mm256_inserti128_si256(_mm256_castsi128_si256(load16(q0)), load16(q1), 1);
    const __m512i v = _mm512_permutexvar_epi64(_mm512_setr_epi64(0, 1, 0, 1, 2, 3, 2, 3), _mm512_castsi256_si512(both));
    return _mm512_and_si512(_mm512_srlv_epi64(v, _mm512_setr_epi64(0, 0, 4, 4, 0, 0, 4, 4)), _mm512_set1_epi8(0x0F));
}

inline __m512i fifthBits2(const uint8_t *qh0, const uint8_t *qh1)
{
    return _mm512_maskz_set1_epi8(__mmask64(wordAt(qh0)) | __mmask64(wordAt(qh1)) << 32, 16);
}

template <class C>
__m512i codes2(const uint8_t *b0, const uint8_t *b1)
{
    if constexpr (C::kBytes == 34) { // Q8_0
        const __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(load32(b0 + 2)), load32(b1 + 2), 1);
        return C::kSigned ? q : _mm512_xor_si512(q, _mm512_set1_epi8(char(0x80)));
    } else if constexpr (C::kBytes == 18) { // Q4_0
        return nibbles2(b0 + 2, b1 + 2);
    } else if constexpr (C::kBytes == 20) { // Q4_1
        return nibbles2(b0 + 4, b1 + 4);
    } else if constexpr (C::kBytes == 22) { // Q5_0
        return _mm512_or_si512(nibbles2(b0 + 6, b1 + 6), fifthBits2(b0 + 2, b1 + 2));
    } else { // Q5_1
        return _mm512_or_si512(nibbles2(b0 + 8, b1 + 8), fifthBits2(b0 + 4, b1 + 4));
    }
}

template <class C>
float dotLegacy(const uint8_t *w, const RowView &x, int64_t K)
{
    const __m512i pairIdx = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
    __m128 accOff = _mm_setzero_ps();
    const int64_t nb = K / 32;
    int64_t b = 0;
    auto pair = [&](int64_t b, __m512 a) {
        const uint8_t *b0 = w + b * C::kBytes, *b1 = b0 + C::kBytes;
        const __m512i c = codes2<C>(b0, b1), xq = _mm512_loadu_si512(x.q + 32 * b);
        __m512i i;
        if constexpr (C::kSigned) {
            const __m512i xs = _mm512_mask_sub_epi8(xq, _mm512_movepi8_mask(c), _mm512_setzero_si512(), xq);
            i = _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(c), xs), _mm512_set1_epi16(1));
        } else {
            __m128i sums = _mm_loadl_epi64(reinterpret_cast<const __m128i *>(x.s32 + b));
            sums = _mm_mullo_epi32(sums, _mm_set1_epi32(-(C::kIntOff / 8)));
            const __m512i init = _mm512_permutexvar_epi32(pairIdx, _mm512_castsi128_si512(sums));
#if LATHE_Q8_VNNI
            i = _mm512_dpbusd_epi32(init, c, xq);
#else
            i = _mm512_add_epi32(init, _mm512_madd_epi16(_mm512_maddubs_epi16(c, xq), _mm512_set1_epi16(1)));
#endif
        }
        const __m128 dw = _mm_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(u16At(b0)), u16At(b1), 1));
        const __m128 dx = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(x.d + b)));
        if constexpr (C::kFloatOff) {
            const __m128 m = _mm_cvtph_ps(_mm_insert_epi16(_mm_cvtsi32_si128(u16At(b0 + 2)), u16At(b1 + 2), 1));
            const __m128 ds = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i *>(x.ds + b)));
            accOff = _mm_fmadd_ps(m, ds, accOff);
        }
        const __m512 sc = _mm512_permutexvar_ps(pairIdx, _mm512_castps128_ps512(_mm_mul_ps(dw, dx)));
        return _mm512_fmadd_ps(_mm512_cvtepi32_ps(i), sc, a);
    };
    for (; b + 4 <= nb; b += 4) {
        acc[0] = pair(b, acc[0]);
        acc[1] = pair(b + 2, acc[1]);
    }
    if (b + 2 <= nb) {
        acc[0] = pair(b, acc[0]);
        b += 2;
    }
    float off = 0.0f;
    __m256 tail = _mm256_setzero_ps();
    if (b < nb) // an odd last block: the single-block step
        tail = blockLegacy<C>(w, x, b, tail, off);
    const __m512 all = _mm512_add_ps(acc[0], acc[1]);
    const __m256 half = _mm256_add_ps(_mm512_castps512_ps256(all), _mm512_extractf32x8_ps(all, 1));
    const __m128 o = _mm_add_ps(accOff, _mm_movehdup_ps(accOff)); // lanes 0 + 1 (2, 3 are zero)
    return hsum(_mm256_add_ps(half, tail)) + (_mm_cvtss_f32(o) + off);
}
#else
template <class C>
float dotLegacy(const uint8_t *w, const RowView &x, int64_t K)
{
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    float accOff = 0.0f;
    const int64_t nb = K / 32;
    int64_t b = 0;
    for (; b + 2 <= nb; b += 2) {
        acc0 = blockLegacy<C>(w, x, b, acc0, accOff);
        acc1 = blockLegacy<C>(w, x, b + 1, acc1, accOff);
    }
    if (b < nb)
        acc0 = blockLegacy<C>(w, x, b, acc0, accOff);
    return hsum(_mm256_add_ps(acc0, acc1)) + accOff;
}
#endif

// Shuffle masks picking 16-bit lane j of a 128-bit half into every lane (K-quant scales).
alignas(32) constexpr int8_t kPick16[8][32] = {
#define LATHE_PICK(j) {2 * j, 2 * j + 1, 2 * j, 2 * j + 1, 2 * j, 2 * j + 1, 2 * j, 2 * j + 1, 2 * j, 2 * j + 1, 2 * j, \
                       2 * j + 1, 2 * j, 2 * j + 1, 2 * j, 2 * j + 1, 2 * j, 2 * j + 1, 2 * j, 2 * j + 1, 2 * j,       \
                       2 * j + 1, 2 * j, 2 * j + 1, 2 * j, 2 * j + 1, 2 * j, 2 * j + 1, 2 * j, 2 * j + 1, 2 * j, 2 * j + 1}
    LATHE_PICK(0), LATHE_PICK(1), LATHE_PICK(2), LATHE_PICK(3),
    LATHE_PICK(4), LATHE_PICK(5), LATHE_PICK(6), LATHE_PICK(7),
#undef LATHE_PICK
};

// Q6_K: lane 2g in the low half (elements 0..15 of chunk g), 2g + 1 in the high half.
alignas(32) constexpr int8_t kPickQ6[4][32] = {
#define LATHE_PICK(a, b) {a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, a, a + 1, \
                          b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1, b, b + 1}
    LATHE_PICK(0, 2), LATHE_PICK(4, 6), LATHE_PICK(8, 10), LATHE_PICK(12, 14),
#undef LATHE_PICK
};

inline __m256i pick(const int8_t (&mask)[32], __m256i v) { return _mm256_shuffle_epi8(v, load32(mask)); }

// Q4_K / Q5_K: sum_j sc_j * (codes_j . q_j) in int32 lanes (scales applied as 16-bit
// integers), minus dmin * sum_j m_j * sum(q_j) from the activations' 16-sums.
template <bool kFive>
float dotK45(const uint8_t *w, const RowView &x, int64_t K)
{
    using C = CK45<kFive>;
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < K / 256; ++b) {
        const uint8_t *blk = w + b * C::kBytes;
        const int8_t *xq = x.q + 256 * b;
        uint32_t sc[2], m[2];
        scalesMinsK4(blk + 4, sc, m);
        const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_set_epi32(0, 0, int(sc[1]), int(sc[0]))));
        const __m128i m16 = _mm_cvtepu8_epi16(_mm_set_epi32(0, 0, int(m[1]), int(m[0])));
        const __m256i mPairs = _mm256_set_m128i(_mm_unpackhi_epi16(m16, m16), _mm_unpacklo_epi16(m16, m16));
        __m256i isum = _mm256_setzero_si256();
        const uint8_t *qs = blk + (kFive ? 48 : 16);
        const __m256i qh = kFive ? load32(blk + 16) : _mm256_setzero_si256();
#pragma GCC unroll 4
        for (int g = 0; g < 4; ++g) {
            const __m256i q = load32(qs + 32 * g);
            __m256i c0 = nib0(q), c1 = nib1(q);
            if constexpr (kFive) {
                const __m256i one = _mm256_set1_epi8(1);
                c0 = _mm256_or_si256(c0, _mm256_slli_epi16(_mm256_and_si256(srl16(qh, 2 * g), one), 4));
                c1 = _mm256_or_si256(c1, _mm256_slli_epi16(_mm256_and_si256(srl16(qh, 2 * g + 1), one), 4));
            }
            isum = dp16(isum, _mm256_maddubs_epi16(c0, load32(xq + 64 * g)), pick(kPick16[2 * g], sc16));
            isum = dp16(isum, _mm256_maddubs_epi16(c1, load32(xq + 64 * g + 32)), pick(kPick16[2 * g + 1], sc16));
        }
        const __m256i mins = _mm256_madd_epi16(load32(x.s + 16 * b), mPairs);
        const float dx = x.d[b];
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(halfAt(blk) * dx), acc);
        acc = _mm256_fnmadd_ps(_mm256_cvtepi32_ps(mins), _mm256_set1_ps(halfAt(blk + 2) * dx), acc);
    }
    return hsum(acc);
}

// Q6_K: sum_i sc_i * (codes_i . q_i - 32 * sum(q_i)) in int32 lanes, one conversion.
float dotQ6K(const uint8_t *w, const RowView &x, int64_t K)
{
    __m256 acc = _mm256_setzero_ps();
    for (int64_t b = 0; b < K / 256; ++b) {
        const uint8_t *blk = w + b * CQ6_K::kBytes;
        const int8_t *xq = x.q + 256 * b;
        __m256i isum = _mm256_setzero_si256();
#pragma GCC unroll 2
        for (int h = 0; h < 2; ++h) {
            const __m256i sv = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(_mm_loadl_epi64(
                reinterpret_cast<const __m128i *>(blk + 192 + 8 * h))));
#pragma GCC unroll 4
            for (int g = 0; g < 4; ++g)
                isum = dp16(isum, _mm256_maddubs_epi16(CQ6_K::codes(blk, 4 * h + g), load32(xq + 128 * h + 32 * g)),
                            pick(kPickQ6[g], sv));
        }
        const __m256i sc16 = _mm256_cvtepi8_epi16(load16(blk + 192));
        isum = _mm256_sub_epi32(isum, _mm256_slli_epi32(_mm256_madd_epi16(sc16, load32(x.s + 16 * b)), 5));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_set1_ps(halfAt(blk + 208) * x.d[b]), acc);
    }
    return hsum(acc);
}

template <float (*kDot)(const uint8_t *, const RowView &, int64_t)>
void gemv(const uint8_t *w, size_t rb, int64_t n0, int64_t n1, const Q8Rows &a, float *y, int64_t ldy)
{
    for (int64_t n = n0; n < n1; ++n) // row outer: for T > 1 the row stays in L1
        for (int64_t t = 0; t < a.T; ++t)
            y[t * ldy + n] = kDot(w + size_t(n) * rb, rowOf(a, t), a.K);
}

} // namespace

} // namespace lathe::cpu::detail
