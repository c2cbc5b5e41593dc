// Quant: the row codec dispatcher. Plain float types are handled here; block types
// go to their family (QuantLegacy.cpp, QuantK.cpp, QuantNf4.cpp).
#include "core/Quant.h"

#include "core/Error.h"
#include "core/Half.h"
#include "core/QuantFormats.h"

#include <cstring>
#include <string>

namespace lathe {

namespace {

void checkRow(DType t, int64_t n, const char *what)
{
    const DTypeInfo &info = dtypeInfo(t);
    if (t == DType::I32)
        fail(std::string(what) + ": I32 is not a float format");
    if (n < 0 || n % info.blockSize != 0)
        fail(std::string(what) + ": row of " + std::to_string(n) + " elements is not a multiple of the " +
             info.name + " block size " + std::to_string(info.blockSize));
}

} // namespace

void dequantizeRow(DType t, const void *src, float *dst, int64_t n)
{
    checkRow(t, n, "dequantizeRow");
    const auto *p16 = static_cast<const uint16_t *>(src);
    switch (t) {
    case DType::F32:
        std::memcpy(dst, src, size_t(n) * sizeof(float));
        return;
    case DType::F16:
        for (int64_t i = 0; i < n; ++i)
            dst[i] = f16ToF32(p16[i]);
        return;
    case DType::BF16:
        for (int64_t i = 0; i < n; ++i)
            dst[i] = bf16ToF32(p16[i]);
        return;
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
        quant::dequantizeLegacy(t, src, dst, n);
        return;
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
    case DType::Q8_K:
        quant::dequantizeK(t, src, dst, n);
        return;
    case DType::NF4:
        quant::dequantizeNf4(src, dst, n);
        return;
    case DType::I32:
        break;
    }
    fail("dequantizeRow: unsupported type");
}

void quantizeRow(DType t, const float *src, void *dst, int64_t n)
{
    checkRow(t, n, "quantizeRow");
    auto *p16 = static_cast<uint16_t *>(dst);
    switch (t) {
    case DType::F32:
        std::memcpy(dst, src, size_t(n) * sizeof(float));
        return;
    case DType::F16:
        for (int64_t i = 0; i < n; ++i)
            p16[i] = f32ToF16(src[i]);
        return;
    case DType::BF16:
        for (int64_t i = 0; i < n; ++i)
            p16[i] = f32ToBf16(src[i]);
        return;
    case DType::Q8_0:
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
        quant::quantizeLegacy(t, src, dst, n);
        return;
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
    case DType::Q8_K:
        quant::quantizeK(t, src, dst, n);
        return;
    case DType::NF4:
        quant::quantizeNf4(src, dst, n);
        return;
    case DType::I32:
        break;
    }
    fail("quantizeRow: unsupported type");
}

} // namespace lathe
