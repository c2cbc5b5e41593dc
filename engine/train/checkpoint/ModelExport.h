// ModelExport: writes a whole model whose weights are partly new (a full fine-tune's
// trained tensors, or LoRA-merged matrices) through the existing writers: a GGUF file
// when the output ends in .gguf, else a Hugging Face folder. The tokenizer travels with
// it when the base has one the target format can carry (a GGUF vocabulary into GGUF,
// tokenizer files into a folder).
#pragma once

#include "model/LoadedModel.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lathe {

struct F32Tensor
{
    std::vector<int64_t> shape;
    std::vector<float> values;
};

// The base weights with the named tensors replaced by F32 data (moved in and kept alive
// by the result). Throws Error for a name the base lacks or a shape that differs.
Weights overlayWeights(const Weights &base, std::map<std::string, F32Tensor> replacements);

// Writes config + weights next to/in out. type: the matrices' type for GGUF (F32, F16,
// BF16, Q8_0, ...) or the folder's dtype (F32, F16, BF16). Returns the writer's notes.
std::vector<std::string> writeModelAs(const LoadedModel &base, const Weights &weights, const std::string &out,
                                      DType type);

} // namespace lathe
