// FastMath: reductions that vectorise without -ffast-math: sums, dot products and maxima
// in a fixed order of eight partial lanes, combined at the end (the same bits on every
// run, whatever the thread count).
#pragma once

#include <algorithm>
#include <cstdint>

namespace lathe::train {

// Σ x[i] in a fixed order: eight running partial sums (so the loop vectorises), combined
// in double at the end.
template <class Real>
inline double sumOf(const Real *x, int64_t n)
{
    Real part[8] = {};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j)
            part[j] += x[i + j];
    double s = 0.0;
    for (int j = 0; j < 8; ++j)
        s += double(part[j]);
    for (; i < n; ++i)
        s += double(x[i]);
    return s;
}

// max x[i] (n >= 1), eight lanes at a time.
template <class Real>
inline Real maxOf(const Real *x, int64_t n)
{
    Real part[8];
    for (int j = 0; j < 8; ++j)
        part[j] = x[0];
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j)
            part[j] = std::max(part[j], x[i + j]);
    Real m = part[0];
    for (int j = 1; j < 8; ++j)
        m = std::max(m, part[j]);
    for (; i < n; ++i)
        m = std::max(m, x[i]);
    return m;
}

// Σ a[i]·b[i], the same way.
template <class Real>
inline double dotOf(const Real *a, const Real *b, int64_t n)
{
    Real part[8] = {};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j)
            part[j] += a[i + j] * b[i + j];
    double s = 0.0;
    for (int j = 0; j < 8; ++j)
        s += double(part[j]);
    for (; i < n; ++i)
        s += double(a[i]) * double(b[i]);
    return s;
}

} // namespace lathe::train
