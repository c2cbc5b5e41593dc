// TensorView: a named, typed, shaped window onto bytes someone else owns (a file
// mapping, a device buffer). Shapes are row-major, outermost first: a weight matrix
// with N output rows of K inputs is [N, K] (the reverse of ggml's ne order).
#pragma once

#include "core/DType.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lathe {

struct TensorView
{
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const void *data = nullptr;
    size_t bytes = 0;

    int64_t numel() const
    {
        int64_t n = 1;
        for (int64_t d : shape)
            n *= d;
        return n;
    }
    int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
    int64_t rows() const { return cols() == 0 ? 0 : numel() / cols(); }
    const uint8_t *row(int64_t r) const
    {
        return static_cast<const uint8_t *>(data) + size_t(r) * rowBytes(dtype, cols());
    }
};

std::string shapeString(const std::vector<int64_t> &shape); // "[512, 256]"

} // namespace lathe
