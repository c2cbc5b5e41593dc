// LoadedModel and loadModel(): one entry point for every model file a user has.
// The format is detected from the path: a directory (Hugging Face folder with
// config.json), a file starting with the GGUF magic, or a llama2.c checkpoint.
// Weights stay in the file mapping (no copies) except where a format must be
// converted; every offset and size is validated before any view is handed out.
#pragma once

#include "model/ModelConfig.h"
#include "model/Weights.h"

#include <memory>
#include <string>

namespace lathe {

class GgufFile;

enum class ModelFormat : uint8_t { Gguf = 0, HfFolder = 1, Llama2c = 2 };
const char *modelFormatName(ModelFormat f);

struct LoadedModel
{
    ModelConfig config;
    Weights weights;
    ModelFormat format = ModelFormat::Gguf;
    std::string path;
    // GGUF metadata (tokenizer vocab, chat template) when the model came from GGUF.
    std::shared_ptr<const GgufFile> gguf;
};

struct LoadOptions
{
    // llama2.c checkpoints carry no tokenizer ids; the tokenizer.bin beside them does.
    std::string llama2cTokenizerPath; // optional
};

// Throws Error with the path and the offending field/tensor on any problem.
LoadedModel loadModel(const std::string &path, const LoadOptions &options = {});

// Per-format loaders, used by loadModel (and directly by tests).
LoadedModel loadGgufModel(const std::string &path);
LoadedModel loadHfModel(const std::string &folder);
LoadedModel loadLlama2cModel(const std::string &path, const LoadOptions &options);

} // namespace lathe
