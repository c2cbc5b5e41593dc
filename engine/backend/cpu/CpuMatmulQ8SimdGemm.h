// Part of CpuMatmulQ8Simd.h (included only from there, inside its ISA settings): gemm,
// the prefill kernels. A panel of weight rows is decoded once into codes interleaved
// 4 bytes per row, then multiplied into tiles of tokens by 4-element dot products that
// cover every row of the panel at once.
#pragma once

#ifndef LATHE_Q8_SIMD_PARTS
#error "include CpuMatmulQ8Simd.h, not this part"
#endif

namespace lathe::cpu::detail {

namespace {

// ---- gemm: panels of weight rows, interleaved ---------------------------------------

#if LATHE_Q8_WIDE
struct Vec
{
    using I = __m512i;
    using F = __m512;
    static constexpr int kRows = 16;
    static I load(const uint8_t *p) { return _mm512_loadu_si512(p); }
    static I splat(int32_t v) { return _mm512_set1_epi32(v); }
    static I zero() { return _mm512_setzero_si512(); }
    static I dp(I acc, I w, I x)
    {
#if LATHE_Q8_VNNI
        return _mm512_dpbusd_epi32(acc, w, x);
#else
        return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(w, x), _mm512_set1_epi16(1)));
#endif
    }
    // Signed weights (Q8_0 without VNNI): |w| times x with w's sign moved onto x.
    static I dpSigned(I acc, I w, I x)
    {
        const __mmask64 neg = _mm512_movepi8_mask(w);
        const I xs = _mm512_mask_sub_epi8(x, neg, _mm512_setzero_si512(), x);
        return _mm512_add_epi32(acc, _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(w), xs),
                                                       _mm512_set1_epi16(1)));
    }
    static F cvt(I v) { return _mm512_cvtepi32_ps(v); }
    static F loadF(const float *p) { return _mm512_loadu_ps(p); }
    static F set1(float v) { return _mm512_set1_ps(v); }
    static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
    static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
    static F zeroF() { return _mm512_setzero_ps(); }
    static void store(float *p, F v, int n) { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v); }
};
constexpr int kPanels = 2, kTileTokens = 4; // 2 x 16 rows x 4 tokens: 8 int + 8 f32 accumulators
#else
struct Vec
{
    using I = __m256i;
    using F = __m256;
    static constexpr int kRows = 8;
    static I load(const uint8_t *p) { return load32(p); }
    static I splat(int32_t v) { return _mm256_set1_epi32(v); }
    static I zero() { return _mm256_setzero_si256(); }
    static I dp(I acc, I w, I x) { return dp8(acc, w, x); }
    static I dpSigned(I acc, I w, I x) { return dp8(acc, _mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w)); }
    static F cvt(I v) { return _mm256_cvtepi32_ps(v); }
    static F loadF(const float *p) { return _mm256_loadu_ps(p); }
    static F set1(float v) { return _mm256_set1_ps(v); }
    static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
    static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
    static F zeroF() { return _mm256_setzero_ps(); }
    static void store(float *p, F v, int n)
    {
        alignas(32) float tmp[8];
        _mm256_store_ps(tmp, v);
        for (int i = 0; i < n; ++i)
            p[i] = tmp[i];
    }
};
constexpr int kPanels = 1, kTileTokens = 4;
#endif

constexpr int kPanelRows = kPanels * Vec::kRows;

// A packed panel of kPanelRows weight rows, chunk by chunk (32 elements of K): the codes
// as 8 groups x kPanelRows rows x 4 bytes, then per unit of the chunk the rows' scales
// and (kFloatOff) offsets as floats. Rows past the matrix are zero.
template <class C>
constexpr int64_t chunkStride()
{
    return 32 * kPanelRows + (32 / C::kUnit) * kPanelRows * 4 * (C::kFloatOff ? 2 : 1);
}

// Per-thread scratch for packed panels (plain memory: no std containers in this file).
struct Scratch
{
    void *p = nullptr;
    size_t bytes = 0;
    ~Scratch() { std::free(p); }
    uint8_t *get(size_t n)
    {
        if (n > bytes) {
            std::free(p);
            bytes = 0;
            p = std::aligned_alloc(64, (n + 63) / 64 * 64);
            if (!p)
                throw std::bad_alloc();
            bytes = n;
        }
        return static_cast<uint8_t *>(p);
    }
};

// r[i] holds 8 dwords (groups g = 0..7 of 4 codes) of row i; afterwards r[g] holds
// group g of rows 0..7: a transpose of 8 x 8 dwords in registers.
inline void transpose8x8(__m256i (&r)[8])
{
    __m256i t[8], u[8];
    for (int i = 0; i < 4; ++i) {
        t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);     // groups 0,1 | 4,5 of 2 rows
        t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]); // groups 2,3 | 6,7
    }
    for (int h = 0; h < 2; ++h) { // rows 4h .. 4h + 3
        u[4 * h + 0] = _mm256_unpacklo_epi64(t[4 * h], t[4 * h + 2]);     // group 0 | 4
        u[4 * h + 1] = _mm256_unpackhi_epi64(t[4 * h], t[4 * h + 2]);     // group 1 | 5
        u[4 * h + 2] = _mm256_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]); // group 2 | 6
        u[4 * h + 3] = _mm256_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]); // group 3 | 7
    }
    for (int g = 0; g < 4; ++g) {
        r[g] = _mm256_permute2x128_si256(u[g], u[4 + g], 0x20);
        r[g + 4] = _mm256_permute2x128_si256(u[g], u[4 + g], 0x31);
    }
}

constexpr int kPackPrefetch = 512; // bytes ahead in each row

template <class C>
void packPanel(const uint8_t *w, size_t rb, int64_t n, int valid, int64_t K, uint8_t *out)
{
    constexpr int kChunks = C::kBlock / 32, kUnitsPerChunk = 32 / C::kUnit;
    constexpr int64_t kStride = chunkStride<C>();
    for (int64_t b = 0; b < K / C::kBlock; ++b) {
        uint8_t *base = out + b * kChunks * kStride;
        for (int p0 = 0; p0 < kPanelRows; p0 += 8) { // 8 rows at a time, transposed in registers
            const uint8_t *blk[8];
            typename C::Hdr h[8];
            for (int i = 0; i < 8; ++i) {
                const int p = p0 + i;
                blk[i] = p < valid ? w + size_t(n + p) * rb + size_t(b) * C::kBytes : nullptr;
                if (blk[i]) {
                    // The panel's rows are kPanelRows interleaved streams, more than the
                    // hardware prefetcher follows; the weights come from memory here.
                    _mm_prefetch(reinterpret_cast<const char *>(blk[i]) + kPackPrefetch, _MM_HINT_T0);
                    C::begin(blk[i], h[i]);
                }
                for (int j = 0; j < kChunks; ++j)
                    for (int u = 0; u < kUnitsPerChunk; ++u) {
                        float *sc = reinterpret_cast<float *>(base + j * kStride + 32 * kPanelRows) +
                                    u * kPanelRows * (C::kFloatOff ? 2 : 1);
                        const int unit = j * kUnitsPerChunk + u;
                        sc[p] = blk[i] ? C::scale(h[i], unit) : 0.0f;
                        if constexpr (C::kFloatOff)
                            sc[kPanelRows + p] = blk[i] ? C::offset(h[i], unit) : 0.0f;
                    }
            }
            for (int j = 0; j < kChunks; ++j) {
                __m256i r[8];
                for (int i = 0; i < 8; ++i)
                    r[i] = blk[i] ? C::chunk(blk[i], h[i], j) : _mm256_setzero_si256();
                transpose8x8(r); // r[g]: group g (4 codes) of the 8 rows
                for (int g = 0; g < 8; ++g)
                    _mm256_storeu_si256(reinterpret_cast<__m256i *>(base + j * kStride + (g * kPanelRows + p0) * 4),
                                        r[g]);
            }
        }
    }
}

// kTileTokens tokens (rows t0.., `rows` of them valid) against one packed panel.
template <class C>
void panelTile(const uint8_t *pack, const Q8Rows &a, int64_t t0, int rows, float *y, int64_t ldy, int valid)
{
    using I = typename Vec::I;
    using F = typename Vec::F;
    constexpr int R = kTileTokens, NP = kPanels, kUnitsPerChunk = 32 / C::kUnit, kGroups = C::kUnit / 4;
    constexpr int kUnitsPerAct = C::kBlock == 256 ? 256 / C::kUnit : 1;
    constexpr int64_t kStride = chunkStride<C>();
    RowView x[R];
    for (int r = 0; r < R; ++r)
        x[r] = rowOf(a, t0 + (r < rows ? r : 0));
    F acc[NP][R], part[NP][R];
    for (int p = 0; p < NP; ++p)
        for (int r = 0; r < R; ++r)
            acc[p][r] = part[p][r] = Vec::zeroF();
    const int64_t chunks = a.K / 32;
    for (int64_t j = 0; j < chunks; ++j) {
        const uint8_t *cp = pack + j * kStride;
        for (int u = 0; u < kUnitsPerChunk; ++u) {
            const int64_t unit = j * kUnitsPerChunk + u, k0 = unit * C::kUnit;
            int32_t sum[R]; // sum(q) over the unit
            for (int r = 0; r < R; ++r)
                sum[r] = C::kUnit == 16            ? x[r].s[unit]
                         : kUnitsPerAct == 1       ? x[r].s32[unit]
                                                   : int32_t(x[r].s[2 * unit]) + x[r].s[2 * unit + 1];
            I ai[NP][R];
            for (int r = 0; r < R; ++r)
                for (int p = 0; p < NP; ++p)
                    ai[p][r] = C::kIntOff ? Vec::splat(-C::kIntOff * sum[r]) : Vec::zero();
#pragma GCC unroll 8
            for (int g = 0; g < kGroups; ++g) {
                I wv[NP];
                for (int p = 0; p < NP; ++p)
                    wv[p] = Vec::load(cp + ((u * kGroups + g) * kPanelRows + p * Vec::kRows) * 4);
                for (int r = 0; r < R; ++r) {
                    const I xb = Vec::splat(i32At(x[r].q + k0 + 4 * g));
                    for (int p = 0; p < NP; ++p)
                        ai[p][r] = C::kSigned ? Vec::dpSigned(ai[p][r], wv[p], xb) : Vec::dp(ai[p][r], wv[p], xb);
                }
            }
            const float *sp = reinterpret_cast<const float *>(cp + 32 * kPanelRows) +
                              u * kPanelRows * (C::kFloatOff ? 2 : 1);
            const bool first = unit % kUnitsPerAct == 0, last = unit % kUnitsPerAct == kUnitsPerAct - 1;
            const int64_t act = unit / kUnitsPerAct;
            for (int p = 0; p < NP; ++p) {
                const F sv = Vec::loadF(sp + p * Vec::kRows);
                for (int r = 0; r < R; ++r) {
                    F v = first ? Vec::mul(Vec::cvt(ai[p][r]), sv) : Vec::fmadd(Vec::cvt(ai[p][r]), sv, part[p][r]);
                    if constexpr (C::kFloatOff && kUnitsPerAct > 1) // K-quant mins: sum(q) of the unit
                        v = Vec::fmadd(Vec::loadF(sp + kPanelRows + p * Vec::kRows), Vec::set1(float(sum[r])), v);
                    part[p][r] = v;
                    if (last)
                        acc[p][r] = Vec::fmadd(v, Vec::set1(x[r].d[act]), acc[p][r]);
                    if constexpr (C::kFloatOff && kUnitsPerAct == 1) // Q4_1/Q5_1: m * ds
                        acc[p][r] = Vec::fmadd(Vec::loadF(sp + kPanelRows + p * Vec::kRows), Vec::set1(x[r].ds[act]),
                                               acc[p][r]);
                }
            }
        }
    }
    for (int r = 0; r < rows; ++r)
        for (int p = 0; p < NP; ++p) {
            const int n = valid - p * Vec::kRows;
            if (n > 0)
                Vec::store(y + (t0 + r) * ldy + p * Vec::kRows, acc[p][r], n < Vec::kRows ? n : Vec::kRows);
        }
}

template <class C>
void gemm(const uint8_t *w, size_t rb, int64_t n0, int64_t n1, const Q8Rows &a, float *y, int64_t ldy)
{
    thread_local Scratch scratch;
    uint8_t *pack = scratch.get(size_t(a.K / 32 * chunkStride<C>()));
    for (int64_t n = n0; n < n1; n += kPanelRows) {
        const int valid = int(imin(kPanelRows, n1 - n));
        packPanel<C>(w, rb, n, valid, a.K, pack);
        for (int64_t t0 = 0; t0 < a.T; t0 += kTileTokens)
            panelTile<C>(pack, a, t0, int(imin(kTileTokens, a.T - t0)), y + n, ldy, valid);
    }
}

} // namespace

} // namespace lathe::cpu::detail
