// FrozenMatrix: views, conversions and slice dequantisation (see FrozenMatrix.h).
#include "train/model/FrozenMatrix.h"

#include "core/Error.h"
#include "core/Quant.h"
#include "core/QuantFormats.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace lathe::train {

namespace {

constexpr int kNf4Block = 64;
constexpr int kScaleGroup = 256; // NF4 blocks per double-quantisation group
constexpr int64_t kMaxBlock = 256;

// Elements [e0, e1) of a run of blocks of type t starting at base, as f32.
void decodeRange(DType t, const uint8_t *base, int64_t e0, int64_t e1, float *dst)
{
    if (e1 <= e0)
        return;
    const DTypeInfo &info = dtypeInfo(t);
    const int64_t bs = info.blockSize;
    const int64_t bb = info.blockBytes;
    float tmp[kMaxBlock];
    int64_t e = e0;
    if (e % bs != 0) { // leading partial block
        const int64_t b = e / bs;
        dequantizeRow(t, base + b * bb, tmp, bs);
        const int64_t end = std::min(e1, (b + 1) * bs);
        std::memcpy(dst, tmp + (e - b * bs), size_t(end - e) * sizeof(float));
        dst += end - e;
        e = end;
    }
    const int64_t whole = (e1 - e) / bs * bs;
    if (whole > 0) {
        dequantizeRow(t, base + e / bs * bb, dst, whole);
        dst += whole;
        e += whole;
    }
    if (e < e1) { // trailing partial block
        dequantizeRow(t, base + e / bs * bb, tmp, bs);
        std::memcpy(dst, tmp, size_t(e1 - e) * sizeof(float));
    }
}

void checkMatrix(const TensorView &t)
{
    if (t.shape.size() != 2 || t.shape[0] <= 0 || t.shape[1] <= 0)
        fail("tensor " + t.name + ": shape " + shapeString(t.shape) + ", expected a matrix");
    if (t.data == nullptr || t.bytes < size_t(t.shape[0]) * rowBytes(t.dtype, t.shape[1]))
        fail("tensor " + t.name + ": " + std::to_string(t.bytes) + " bytes, too few for its shape");
}

} // namespace

FrozenMatrix FrozenMatrix::view(const TensorView &t)
{
    checkMatrix(t);
    if (t.dtype == DType::I32)
        fail("tensor " + t.name + ": I32 is not a weight type");
    FrozenMatrix m;
    m.m_name = t.name;
    m.m_rows = t.shape[0];
    m.m_cols = t.shape[1];
    m.m_dtype = t.dtype;
    m.m_rowWise = true;
    m.m_data = static_cast<const uint8_t *>(t.data);
    m.m_rowBytes = rowBytes(t.dtype, m.m_cols);
    m.m_viewBytes = int64_t(m.m_rowBytes) * m.m_rows;
    return m;
}

FrozenMatrix FrozenMatrix::convert(const TensorView &t, DType format, bool doubleQuant)
{
    checkMatrix(t);
    if (format != DType::F32 && format != DType::F16 && format != DType::BF16 && format != DType::Q8_0 &&
        format != DType::NF4)
        fail("tensor " + t.name + ": cannot hold a frozen base as " + dtypeName(format));
    FrozenMatrix m;
    m.m_name = t.name;
    m.m_rows = t.shape[0];
    m.m_cols = t.shape[1];
    m.m_dtype = format;
    const int64_t bs = dtypeInfo(format).blockSize;
    const int64_t total = m.m_rows * m.m_cols;
    const int64_t blocks = (total + bs - 1) / bs;
    m.m_owned.resize(size_t(blocks) * size_t(dtypeInfo(format).blockBytes));

    // Stream the source row by row through a staging buffer of whole blocks, so the
    // conversion never holds the matrix in f32 either.
    const int64_t chunk = std::max<int64_t>(kMaxBlock * 64, (m.m_cols + kMaxBlock - 1) / kMaxBlock * kMaxBlock * 2);
    std::vector<float> stage(size_t(chunk) + size_t(m.m_cols));
    int64_t staged = 0, written = 0; // elements
    const size_t srcRowBytes = rowBytes(t.dtype, m.m_cols);
    const auto *src = static_cast<const uint8_t *>(t.data);
    auto flush = [&](int64_t n) { // n: a multiple of bs
        quantizeRow(format, stage.data(), m.m_owned.data() + written / bs * dtypeInfo(format).blockBytes, n);
        written += n;
        std::memmove(stage.data(), stage.data() + n, size_t(staged - n) * sizeof(float));
        staged -= n;
    };
    for (int64_t r = 0; r < m.m_rows; ++r) {
        dequantizeRow(t.dtype, src + size_t(r) * srcRowBytes, stage.data() + staged, m.m_cols);
        staged += m.m_cols;
        if (staged >= chunk)
            flush(staged / bs * bs);
    }
    if (staged > 0) { // the tail: zero-pad to a whole block
        const int64_t padded = (staged + bs - 1) / bs * bs;
        std::fill(stage.begin() + staged, stage.begin() + padded, 0.0f);
        staged = padded;
        flush(padded);
    }

    if (doubleQuant && format == DType::NF4) {
        const auto *b = reinterpret_cast<const quant::BlockNf4 *>(m.m_owned.data());
        double mean = 0.0;
        for (int64_t i = 0; i < blocks; ++i)
            mean += b[i].absmax;
        m.m_scaleOffset = float(mean / double(blocks));
        const int64_t groups = (blocks + kScaleGroup - 1) / kScaleGroup;
        m.m_scaleCodes.resize(size_t(blocks));
        m.m_groupScales.resize(size_t(groups));
        for (int64_t g = 0; g < groups; ++g) {
            const int64_t i0 = g * kScaleGroup, i1 = std::min(blocks, i0 + kScaleGroup);
            float amax = 0.0f;
            for (int64_t i = i0; i < i1; ++i)
                amax = std::max(amax, std::fabs(b[i].absmax - m.m_scaleOffset));
            const float scale = amax / 127.0f;
            m.m_groupScales[size_t(g)] = scale;
            for (int64_t i = i0; i < i1; ++i) {
                const float q = scale > 0.0f ? std::nearbyint((b[i].absmax - m.m_scaleOffset) / scale) : 0.0f;
                m.m_scaleCodes[size_t(i)] = int8_t(std::clamp(q, -127.0f, 127.0f));
            }
        }
        std::vector<uint8_t> nibbles(size_t(blocks) * (kNf4Block / 2));
        for (int64_t i = 0; i < blocks; ++i)
            std::memcpy(nibbles.data() + i * (kNf4Block / 2), b[i].qs, kNf4Block / 2);
        m.m_owned = std::move(nibbles);
        m.m_doubleQuant = true;
    }
    m.m_data = m.m_owned.data();
    return m;
}

int64_t FrozenMatrix::bytes() const
{
    if (m_rowWise)
        return m_viewBytes;
    return int64_t(m_owned.size() + m_scaleCodes.size() * sizeof(int8_t) + m_groupScales.size() * sizeof(float) +
                   (m_doubleQuant ? sizeof(float) : 0));
}

void FrozenMatrix::dequantize(int64_t r, int64_t k0, int64_t k1, float *dst) const
{
    if (m_rowWise) {
        decodeRange(m_dtype, m_data + size_t(r) * m_rowBytes, k0, k1, dst);
        return;
    }
    const int64_t e0 = r * m_cols + k0, e1 = r * m_cols + k1;
    if (!m_doubleQuant) {
        decodeRange(m_dtype, m_data, e0, e1, dst);
        return;
    }
    for (int64_t e = e0; e < e1;) {
        const int64_t blk = e / kNf4Block;
        const int64_t end = std::min(e1, (blk + 1) * kNf4Block);
        const float absmax = float(m_scaleCodes[size_t(blk)]) * m_groupScales[size_t(blk / kScaleGroup)] + m_scaleOffset;
        for (; e < end; ++e) {
            const uint8_t byte = m_data[e / 2];
            *dst++ = quant::kNf4Levels[(e & 1) ? byte >> 4 : byte & 0xF] * absmax;
        }
    }
}

} // namespace lathe::train
