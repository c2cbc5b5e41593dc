// Converting q/k projection rows between the two RoPE pair layouts (ModelConfig.h).
// Hugging Face checkpoints pair dims (i, i + D/2) of each head; llama.cpp's converter
// reorders the rows of q and k so that GGUF llama pairs (2i, 2i+1) — numpy's
//   w.reshape(heads, 2, D/2, cols).swapaxes(1, 2).reshape(w.shape)
// i.e. interleaved row h*D + 2i + s comes from rotate-half row h*D + s*D/2 + i.
#pragma once

#include "model/ModelConfig.h"

#include <cstdint>

namespace lathe {

// dst and src: [heads * headDim, cols] f32, distinct. Copies rows reordered from layout
// `from` to layout `to` (a plain copy when they are equal). headDim must be even.
void convertQkLayout(const float *src, float *dst, int heads, int headDim, int64_t cols, RopeLayout from,
                     RopeLayout to);

} // namespace lathe
