// AVX2/FMA exp over a row (see ExpRow.h for the scheme and its accuracy).
#include "train/ops/ExpRow.h"

#include <cmath>
#include <immintrin.h>

namespace lathe::train::detail {

namespace {

inline __m256 exp8(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.0f)), _mm256_set1_ps(88.0f));
    const __m256 fn = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(fn, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(fn, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    const __m256 er = _mm256_add_ps(_mm256_fmadd_ps(_mm256_mul_ps(p, r), r, r), _mm256_set1_ps(1.0f));
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fn), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(er, _mm256_castsi256_ps(bits));
}

void expRowF32(const float *x, float *y, int64_t n, float shift)
{
    const __m256 s = _mm256_set1_ps(shift);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), s)));
    if (i < n) { // the tail through a padded buffer, so it gets the same arithmetic
        alignas(32) float t[8] = {};
        for (int64_t j = i; j < n; ++j)
            t[j - i] = x[j];
        _mm256_store_ps(t, exp8(_mm256_sub_ps(_mm256_load_ps(t), s)));
        for (int64_t j = i; j < n; ++j)
            y[j] = t[j - i];
    }
}

} // namespace

ExpRowF32Fn avx2ExpRowF32()
{
    return &expRowF32;
}

} // namespace lathe::train::detail
