// Writing a model (config + canonical weights) as a GGUF file that llama.cpp reads, or
// as a Hugging Face folder (config.json, generation_config.json, safetensors, optionally
// sharded with an index). The weights may be of any dtype the engine reads; their q/k
// rows are in the layout config.ropeLayout names and are reordered to the target's
// layout (GGUF llama/mistral: interleaved, as convert_hf_to_gguf permutes; GGUF
// qwen2/qwen3 and every HF folder: rotate-half). Files are written to a temporary
// name and renamed by the underlying writers, so a failed write leaves no half file.
#pragma once

#include "core/DType.h"
#include "model/ModelConfig.h"
#include "model/Weights.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lathe {

struct GgufWriteOptions
{
    // Type of the matrices (token_embd and output included); norms and biases stay F32.
    // A block type whose block does not divide a row falls back as llama.cpp's quantizer
    // does (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, then F16), reported in notes.
    DType weightType = DType::F32;
    // A GGUF whose tokenizer.* keys are copied (its token count must equal the vocab).
    // Empty: a byte-fallback vocabulary (<unk>, <s>, </s>, <0x00>..<0xFF>, unused
    // fillers) when the vocab has room for it, else no tokenizer keys.
    std::string tokenizerFrom;
    std::string name = "lathe-init";
};

struct WriteReport
{
    std::map<std::string, DType> tensorTypes; // what each tensor was written as
    std::vector<std::string> notes;           // fallbacks and other choices made
    int64_t tensorBytes = 0;                  // bytes of tensor data written
};

// Throws Error naming the path, tensor or key on any problem (unsupported dtype, a
// config the format cannot express, a tokenizer that does not fit the vocab).
WriteReport writeGgufModel(const ModelConfig &config, const Weights &weights, const std::string &path,
                           const GgufWriteOptions &options);
WriteReport writeGgufModel(const ModelConfig &config, const Weights &weights, const std::string &path,
                           DType weightType);

struct HfWriteOptions
{
    DType dtype = DType::F32; // F32, F16 or BF16 (torch_dtype in config.json)
    int64_t shardBytes = 0;   // > 0: model-0000k-of-0000n.safetensors of about this size + index
};

WriteReport writeHfModel(const ModelConfig &config, const Weights &weights, const std::string &folder,
                         const HfWriteOptions &options);
WriteReport writeHfModel(const ModelConfig &config, const Weights &weights, const std::string &folder, DType dtype);

// llama.cpp's general.file_type (LLAMA_FTYPE_*) for a file whose matrices are of type t.
uint32_t ggufFileType(DType t);

namespace detail {
// The tensor as f32 in row-major order with q/k rows (and q/k biases and norms) moved
// from config.ropeLayout to `target`. Throws Error naming the tensor.
std::vector<float> tensorAsF32(const ModelConfig &config, const TensorView &t, RopeLayout target);
} // namespace detail

} // namespace lathe
