// Row reordering for the q/k RoPE layouts (see QkLayout.h for the mapping).
#include "model/write/QkLayout.h"

#include <cstring>

namespace lathe {

void convertQkLayout(const float *src, float *dst, int heads, int headDim, int64_t cols, RopeLayout from,
                     RopeLayout to)
{
    const size_t rowBytes = size_t(cols) * sizeof(float);
    const int half = headDim / 2;
    for (int h = 0; h < heads; ++h)
        for (int i = 0; i < half; ++i)
            for (int s = 0; s < 2; ++s) {
                const int64_t interleaved = int64_t(h) * headDim + 2 * i + s;
                const int64_t rotateHalf = int64_t(h) * headDim + s * half + i;
                int64_t srcRow = interleaved, dstRow = interleaved;
                if (from == RopeLayout::RotateHalf)
                    srcRow = rotateHalf;
                if (to == RopeLayout::RotateHalf)
                    dstRow = rotateHalf;
                std::memcpy(dst + dstRow * cols, src + srcRow * cols, rowBytes);
            }
}

} // namespace lathe
