// DType: the element and block formats the engine stores weights in.
// Quantized types are blocks of `blockSize` elements packed into `blockBytes` bytes,
// laid out exactly as GGUF/ggml lays them out (so a mapped GGUF tensor is used as is).
// The numeric values are persisted (store, checkpoints): never renumber, only append.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lathe {

enum class DType : uint8_t {
    F32 = 0,
    F16 = 1,
    BF16 = 2,
    Q8_0 = 3,
    Q4_0 = 4,
    Q4_1 = 5,
    Q5_0 = 6,
    Q5_1 = 7,
    Q4_K = 8,
    Q5_K = 9,
    Q6_K = 10,
    Q8_K = 11,
    NF4 = 12, // QLoRA 4-bit NormalFloat, 64-element blocks with an f32 absmax
    I32 = 13,
};

struct DTypeInfo
{
    const char *name;
    int blockSize;  // elements per block (1 for plain types)
    int blockBytes; // bytes per block
    bool quantized;
};

const DTypeInfo &dtypeInfo(DType t);
inline const char *dtypeName(DType t) { return dtypeInfo(t).name; }
std::optional<DType> dtypeFromName(std::string_view name); // case-insensitive, "q4_0", "f16"

// Bytes of one row of n elements; throws Error if n is not a multiple of the block size.
size_t rowBytes(DType t, int64_t n);

// GGML type ids (the GGUF on-disk enum) <-> DType. Unknown ids give nullopt; the
// caller names the tensor in its error.
std::optional<DType> dtypeFromGgml(uint32_t ggmlType);
uint32_t dtypeToGgml(DType t); // throws Error for types GGUF cannot hold (NF4)
const char *ggmlTypeName(uint32_t ggmlType); // "IQ2_XXS" etc. for messages; "type 42" if unknown

} // namespace lathe
