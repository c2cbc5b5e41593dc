// Per-format error bounds for a dequantized row against the f32 values it was made
// from, derived from each block layout. Shared by tst_quant (our quantizer on random
// data) and tests/model/tst_quant_fixtures (llama.cpp's quantizer on real tensors).
// Block headers are decoded here independently of engine/core/Quant*.cpp, from the
// ggml layout (offsets written out by hand), so a decoding bug cannot hide itself.
#pragma once

#include "core/DType.h"
#include "core/Half.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>

namespace lathe::test {

struct BoundReport
{
    int64_t elements = 0;
    int64_t violations = 0;
    int64_t clamped = 0; // elements outside their block's grid (error = distance to its end)
    double sumSqErr = 0.0;
    double sumSqX = 0.0;
    std::string first; // first violation, for the failure message
    double relRms() const { return sumSqX > 0 ? std::sqrt(sumSqErr / sumSqX) : 0.0; }
};

namespace bounds {

inline float half(const uint8_t *p)
{
    uint16_t h;
    std::memcpy(&h, p, 2);
    return f16ToF32(h);
}

// f16 keeps 11 significant bits: a scale computed in f32 and stored in f16 is off by
// at most 2^-11 of itself, which moves code q by |q| * 2^-11 * d.
// Below f16's normal range (6.1e-5) the rounding is absolute instead: at most half the
// smallest subnormal, 2^-25.
constexpr double kHalfEps = 1.0 / 2048.0;
constexpr double kHalfAbs = 1.0 / 33554432.0;

inline void note(BoundReport &r, bool ok, int64_t i, float x, float y, double bound)
{
    ++r.elements;
    r.sumSqErr += double(x - y) * double(x - y);
    r.sumSqX += double(x) * double(x);
    if (!ok) {
        if (r.violations++ == 0)
            r.first = "element " + std::to_string(i) + ": x=" + std::to_string(x) + " y=" + std::to_string(y) +
                      " bound=" + std::to_string(bound);
    }
}

// y is the nearest point of the grid {dd*q - dm : q in [qlo, qhi]} to x, or the grid's
// end when x lies beyond it. Slack: relative float rounding of (x + dm) / dd.
inline void nearestOnGrid(BoundReport &r, int64_t i, float x, float y, double dd, double dm, int qlo, int qhi)
{
    if (dd == 0.0) { // a dead sub-block: every element decodes to -dm
        note(r, y == float(-dm), i, x, y, 0.0);
        return;
    }
    const double q = std::round((double(y) + dm) / dd);
    const double err = std::fabs(double(x) - double(y));
    const double bound = 0.5 * std::fabs(dd) * (1 + 1e-4) + 1e-6 * (std::fabs(x) + std::fabs(dm));
    const bool beyondTop = (dd > 0 ? x > y : x < y) && q == qhi;
    const bool beyondBottom = (dd > 0 ? x < y : x > y) && q == qlo;
    if (err > bound && (beyondTop || beyondBottom)) {
        ++r.clamped;
        note(r, true, i, x, y, bound);
        return;
    }
    note(r, err <= bound && q >= qlo && q <= qhi, i, x, y, bound);
}

inline int kScale(const uint8_t *s, int j) // 6-bit sub-block scale of a Q4_K/Q5_K block
{
    return j < 4 ? (s[j] & 63) : ((s[j + 4] & 0xF) | ((s[j - 4] >> 6) << 4));
}
inline int kMin(const uint8_t *s, int j)
{
    return j < 4 ? (s[j + 4] & 63) : ((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
}

} // namespace bounds

// Checks row y (dequantized from `row`, K elements of type t) against the source x.
inline void checkRowBounds(DType t, const uint8_t *row, const float *x, const float *y, int64_t K,
                           BoundReport &r)
{
    using namespace bounds;
    switch (t) {
    case DType::F32:
    case DType::F16:
    case DType::BF16:
        for (int64_t i = 0; i < K; ++i) { // exactly the nearest-even rounding of x
            const float want = t == DType::F32 ? x[i] : t == DType::F16 ? f16ToF32(f32ToF16(x[i]))
                                                                        : bf16ToF32(f32ToBf16(x[i]));
            note(r, std::memcmp(&want, &y[i], 4) == 0, i, x[i], y[i], 0.0);
        }
        return;
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q5_0: {
        // Symmetric: d from the largest |x| in f32, codes by round-to-nearest (d/2), then
        // d stored in f16 (|q| * d * 2^-11 more). The code opposite the extreme can clamp
        // one step short (Q4_0: x*id up to 8 but the top code is 7), costing up to d.
        const int bytes = t == DType::Q8_0 ? 34 : t == DType::Q4_0 ? 18 : 22;
        const int qmax = t == DType::Q8_0 ? 127 : t == DType::Q4_0 ? 8 : 16;
        for (int64_t b = 0; b < K / 32; ++b) {
            const double ds = half(row + b * bytes), d = std::fabs(ds);
            for (int64_t i = b * 32; i < b * 32 + 32; ++i) {
                // The top code qmax-1 has the sign of d, opposite to the extreme.
                const bool shortSide = t != DType::Q8_0 && d > 0 && std::round(y[i] / ds) == qmax - 1 &&
                                       std::fabs(x[i]) > std::fabs(y[i]);
                const double bound =
                    d * ((shortSide ? 1.0 : 0.5) + qmax * kHalfEps) * (1 + 1e-4) + qmax * kHalfAbs + 1e-12;
                note(r, std::fabs(x[i] - y[i]) <= bound, i, x[i], y[i], bound);
            }
        }
        return;
    }
    case DType::Q4_1:
    case DType::Q5_1: {
        // Asymmetric: d = (max - min) / qmax, m = min, both stored in f16.
        const int bytes = t == DType::Q4_1 ? 20 : 24;
        const int qmax = t == DType::Q4_1 ? 15 : 31;
        for (int64_t b = 0; b < K / 32; ++b) {
            const double d = std::fabs(half(row + b * bytes)), m = half(row + b * bytes + 2);
            const double bound = d * (0.5 + qmax * kHalfEps) * (1 + 1e-4) + std::fabs(m) * kHalfEps +
                                 (qmax + 1) * kHalfAbs + 1e-12;
            for (int64_t i = b * 32; i < b * 32 + 32; ++i)
                note(r, std::fabs(x[i] - y[i]) <= bound, i, x[i], y[i], bound);
        }
        return;
    }
    case DType::Q4_K:
    case DType::Q5_K: {
        const int bytes = t == DType::Q4_K ? 144 : 176, qmax = t == DType::Q4_K ? 15 : 31;
        for (int64_t b = 0; b < K / 256; ++b) {
            const uint8_t *blk = row + b * bytes;
            const double d = half(blk), dmin = half(blk + 2);
            for (int j = 0; j < 8; ++j) {
                const double dd = d * kScale(blk + 4, j), dm = dmin * kMin(blk + 4, j);
                for (int64_t i = b * 256 + 32 * j; i < b * 256 + 32 * j + 32; ++i)
                    nearestOnGrid(r, i, x[i], y[i], dd, dm, 0, qmax);
            }
        }
        return;
    }
    case DType::Q6_K:
        for (int64_t b = 0; b < K / 256; ++b) {
            const uint8_t *blk = row + b * 210;
            const double d = half(blk + 208);
            for (int ib = 0; ib < 16; ++ib) {
                const double dd = d * double(int8_t(blk[192 + ib]));
                for (int64_t i = b * 256 + 16 * ib; i < b * 256 + 16 * ib + 16; ++i)
                    nearestOnGrid(r, i, x[i], y[i], dd, 0.0, -32, 31);
            }
        }
        return;
    case DType::Q8_K:
        for (int64_t b = 0; b < K / 256; ++b) {
            float d;
            std::memcpy(&d, row + b * 292, 4); // f32 scale: plain round-to-nearest
            for (int64_t i = b * 256; i < b * 256 + 256; ++i)
                nearestOnGrid(r, i, x[i], y[i], d, 0.0, -128, 127);
        }
        return;
    case DType::NF4: {
        // The QLoRA levels, written out again here (not taken from the engine).
        static const double levels[16] = {-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                                          -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                                          0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
                                          0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                                          0.7229568362236023, 1.0};
        for (int64_t b = 0; b < K / 64; ++b) {
            float a;
            std::memcpy(&a, row + b * 36 + 32, 4);
            for (int64_t i = b * 64; i < b * 64 + 64; ++i) {
                double best = 1e300;
                for (double l : levels)
                    best = std::min(best, std::fabs(x[i] - l * a));
                const double bound = best + 1e-6 * std::fabs(a); // y must be a nearest level
                note(r, std::fabs(x[i] - y[i]) <= bound, i, x[i], y[i], bound);
            }
        }
        return;
    }
    case DType::I32:
        break;
    }
    r.violations++;
    r.first = "no bound for this type";
}

} // namespace lathe::test
