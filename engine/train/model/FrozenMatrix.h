// FrozenMatrix: one frozen base weight matrix [rows, cols] as LoRA/QLoRA training holds
// it: either the loaded tensor in place (any dtype, row by row as the file lays it out)
// or a copy converted once to F32, F16, BF16, Q8_0 or NF4. Converted copies are blocked
// over the flattened matrix (as bitsandbytes does), so a row length that is not a
// multiple of the block size (stories260K's ffn_down has 172 columns) still quantises;
// the tail block is zero-padded. Readers dequantise a slice of one row at a time; the
// whole matrix is never expanded.
//
// NF4 double quantisation (QLoRA §3): the per-64 absmax scales lose their mean (one f32
// offset per matrix) and are stored as int8 with one f32 scale per group of 256 blocks:
// 4 + 8/64 + 32/(64*256) bits per weight instead of 4 + 32/64. (bitsandbytes uses a
// dynamic 8-bit float code for the scales; we use linear int8, which is simpler and
// as exact at this range: the scales of one group differ by a few times at most.)
#pragma once

#include "core/DType.h"
#include "core/Tensor.h"

#include <cstdint>
#include <vector>

namespace lathe::train {

class FrozenMatrix
{
public:
    FrozenMatrix() = default;

    // Uses t in place; t's bytes must outlive this. t must be 2-D with whole blocks per row.
    static FrozenMatrix view(const TensorView &t);

    // Converts t (2-D, any dtype dequantizeRow reads) to format: F32, F16, BF16, Q8_0 or
    // NF4 (doubleQuant: NF4 only). Throws Error naming the tensor for other formats.
    static FrozenMatrix convert(const TensorView &t, DType format, bool doubleQuant = false);

    int64_t rows() const { return m_rows; }
    int64_t cols() const { return m_cols; }
    DType dtype() const { return m_dtype; }
    bool doubleQuant() const { return m_doubleQuant; }
    const std::string &name() const { return m_name; }

    // Bytes this matrix holds (or maps, for a view).
    int64_t bytes() const;

    // dst[0 .. k1-k0) = elements [k0, k1) of row r, as f32. 0 <= k0 <= k1 <= cols().
    // Thread-safe (const, no shared scratch).
    void dequantize(int64_t r, int64_t k0, int64_t k1, float *dst) const;

private:
    std::string m_name;
    int64_t m_rows = 0;
    int64_t m_cols = 0;
    DType m_dtype = DType::F32;
    bool m_doubleQuant = false;
    bool m_rowWise = false;          // a view: row r starts at r * rowBytes(cols)
    const uint8_t *m_data = nullptr; // view bytes, or m_owned.data()
    size_t m_rowBytes = 0;
    int64_t m_viewBytes = 0;
    std::vector<uint8_t> m_owned;
    // double-quantised NF4: m_owned holds the nibbles; the block scales live here.
    std::vector<int8_t> m_scaleCodes;   // one per 64-element block
    std::vector<float> m_groupScales;   // one per 256 blocks
    float m_scaleOffset = 0.0f;
};

} // namespace lathe::train
