#include "core/DType.h"

#include "core/Error.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace lathe {

namespace {

// Indexed by DType value. Block geometry follows ggml's block_* structs.
constexpr std::array<DTypeInfo, 14> kInfo{{
    {"F32", 1, 4, false},
    {"F16", 1, 2, false},
    {"BF16", 1, 2, false},
    {"Q8_0", 32, 34, true},
    {"Q4_0", 32, 18, true},
    {"Q4_1", 32, 20, true},
    {"Q5_0", 32, 22, true},
    {"Q5_1", 32, 24, true},
    {"Q4_K", 256, 144, true},
    {"Q5_K", 256, 176, true},
    {"Q6_K", 256, 210, true},
    {"Q8_K", 256, 292, true},
    {"NF4", 64, 36, true},
    {"I32", 1, 4, false},
}};

struct GgmlPair
{
    uint32_t ggml;
    DType type;
};

constexpr std::array<GgmlPair, 13> kGgml{{
    {0, DType::F32},
    {1, DType::F16},
    {2, DType::Q4_0},
    {3, DType::Q4_1},
    {6, DType::Q5_0},
    {7, DType::Q5_1},
    {8, DType::Q8_0},
    {12, DType::Q4_K},
    {13, DType::Q5_K},
    {14, DType::Q6_K},
    {15, DType::Q8_K},
    {26, DType::I32},
    {30, DType::BF16},
}};

} // namespace

const DTypeInfo &dtypeInfo(DType t)
{
    const auto i = size_t(t);
    if (i >= kInfo.size())
        fail("invalid dtype value " + std::to_string(i));
    return kInfo[i];
}

std::optional<DType> dtypeFromName(std::string_view name)
{
    std::string upper(name);
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return char(std::toupper(c)); });
    for (size_t i = 0; i < kInfo.size(); ++i)
        if (upper == kInfo[i].name)
            return DType(i);
    return std::nullopt;
}

size_t rowBytes(DType t, int64_t n)
{
    const DTypeInfo &info = dtypeInfo(t);
    if (n < 0 || n % info.blockSize != 0)
        fail(std::string("row of ") + std::to_string(n) + " elements is not a multiple of the " + info.name +
             " block size " + std::to_string(info.blockSize));
    return size_t(n / info.blockSize) * size_t(info.blockBytes);
}

std::optional<DType> dtypeFromGgml(uint32_t ggmlType)
{
    for (const GgmlPair &p : kGgml)
        if (p.ggml == ggmlType)
            return p.type;
    return std::nullopt;
}

uint32_t dtypeToGgml(DType t)
{
    for (const GgmlPair &p : kGgml)
        if (p.type == t)
            return p.ggml;
    fail(std::string("dtype ") + dtypeName(t) + " cannot be stored in GGUF");
}

const char *ggmlTypeName(uint32_t ggmlType)
{
    static constexpr std::array<const char *, 40> names{
        "F32",    "F16",     "Q4_0",    "Q4_1",   "Q4_2",   "Q4_3",    "Q5_0",    "Q5_1",   "Q8_0",   "Q8_1",
        "Q2_K",   "Q3_K",    "Q4_K",    "Q5_K",   "Q6_K",   "Q8_K",    "IQ2_XXS", "IQ2_XS", "IQ3_XXS", "IQ1_S",
        "IQ4_NL", "IQ3_S",   "IQ2_S",   "IQ4_XS", "I8",     "I16",     "I32",     "I64",    "F64",    "IQ1_M",
        "BF16",   "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0", "TQ2_0", "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4"};
    if (ggmlType < names.size())
        return names[ggmlType];
    return "unknown";
}

} // namespace lathe
