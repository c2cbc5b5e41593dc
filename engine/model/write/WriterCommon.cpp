// What both writers share: reading any weight back to f32 in the target q/k layout,
// and llama.cpp's file-type numbers.
#include "core/Error.h"
#include "core/Quant.h"
#include "model/write/ModelWriter.h"
#include "model/write/QkLayout.h"

namespace lathe {

namespace {

bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

uint32_t ggufFileType(DType t)
{
    // LLAMA_FTYPE_* from llama.h; K-quants name the "_S" recipe (every matrix one type).
    switch (t) {
    case DType::F32: return 0;
    case DType::F16: return 1;
    case DType::Q4_0: return 2;
    case DType::Q4_1: return 3;
    case DType::Q8_0: return 7;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q4_K: return 14;
    case DType::Q5_K: return 16;
    case DType::Q6_K: return 18;
    case DType::BF16: return 32;
    default: fail(std::string("GGUF: no llama.cpp file type for ") + dtypeName(t));
    }
}

namespace detail {

std::vector<float> tensorAsF32(const ModelConfig &config, const TensorView &t, RopeLayout target)
{
    return withContext("tensor " + t.name, [&]() -> std::vector<float> {
        const int64_t n = t.numel(), cols = t.cols(), rows = t.rows();
        if (n <= 0 || !t.data)
            fail("empty tensor");
        if (t.dtype == DType::I32)
            fail("integer tensors cannot be written as weights");
        if (rowBytes(t.dtype, cols) * size_t(rows) != t.bytes)
            fail("byte size " + std::to_string(t.bytes) + " does not match shape " + shapeString(t.shape));
        std::vector<float> out(static_cast<size_t>(n));
        for (int64_t r = 0; r < rows; ++r)
            dequantizeRow(t.dtype, t.row(r), out.data() + r * cols, cols);
        if (config.ropeLayout == target)
            return out;

        // Which heads this tensor's leading dimension is made of, if it is rotated.
        int heads = 0, headDim = config.headDim;
        int64_t width = cols; // elements per q/k row (1 for a bias)
        if (endsWith(t.name, "attn_q.weight") || endsWith(t.name, "attn_q.bias"))
            heads = config.nHeads;
        else if (endsWith(t.name, "attn_k.weight") || endsWith(t.name, "attn_k.bias"))
            heads = config.nKvHeads;
        else if (endsWith(t.name, "attn_q_norm.weight") || endsWith(t.name, "attn_k_norm.weight"))
            heads = 1;
        if (heads == 0)
            return out;
        if (t.shape.size() == 1)
            width = 1;
        if (config.ropeDim != config.headDim || headDim % 2 != 0)
            fail("cannot reorder q/k rows for partial or odd rotary dims (rope_dim " +
                 std::to_string(config.ropeDim) + ", head_dim " + std::to_string(headDim) + ")");
        if (int64_t(heads) * headDim * width != n)
            fail("shape " + shapeString(t.shape) + " does not hold " + std::to_string(heads) + " heads of " +
                 std::to_string(headDim));
        std::vector<float> reordered(out.size());
        convertQkLayout(out.data(), reordered.data(), heads, headDim, width, config.ropeLayout, target);
        return reordered;
    });
}

} // namespace detail

} // namespace lathe
