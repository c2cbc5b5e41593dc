// QuantNf4: QLoRA's 4-bit NormalFloat blocks (64 elements, absmax scaling, code book
// in QuantFormats.h). Quantization picks the nearest level of x / absmax.
#include "core/QuantFormats.h"

#include <cmath>

namespace lathe::quant {

namespace {

constexpr int kQk = 64;

// Nearest NF4 level for v in [-1, 1]: the levels are sorted, so compare against the
// midpoints between neighbours (ties go to the lower level).
int nearestNf4(float v)
{
    int code = 0;
    for (int k = 1; k < 16; ++k)
        if (v > 0.5f * (kNf4Levels[k - 1] + kNf4Levels[k]))
            code = k;
    return code;
}

} // namespace

void dequantizeNf4(const void *src, float *dst, int64_t n)
{
    const auto *b = static_cast<const BlockNf4 *>(src);
    for (int64_t i = 0; i < n / kQk; ++i, dst += kQk) {
        const float a = b[i].absmax;
        for (int j = 0; j < kQk / 2; ++j) {
            dst[2 * j] = kNf4Levels[b[i].qs[j] & 0xF] * a;
            dst[2 * j + 1] = kNf4Levels[b[i].qs[j] >> 4] * a;
        }
    }
}

void quantizeNf4(const float *src, void *dst, int64_t n)
{
    auto *b = static_cast<BlockNf4 *>(dst);
    for (int64_t i = 0; i < n / kQk; ++i, src += kQk) {
        float amax = 0.0f;
        for (int j = 0; j < kQk; ++j)
            amax = std::fmax(amax, std::fabs(src[j]));
        const float inv = amax > 0.0f ? 1.0f / amax : 0.0f;
        b[i].absmax = amax;
        for (int j = 0; j < kQk / 2; ++j)
            b[i].qs[j] = uint8_t(nearestNf4(src[2 * j] * inv) | nearestNf4(src[2 * j + 1] * inv) << 4);
    }
}

} // namespace lathe::quant
