// The tokenizer that belongs to a loaded model (see ModelTokenizer.h).
#include "infer/ModelTokenizer.h"

#include "model/gguf/GgufFile.h"
#include "model/gguf/GgufVocab.h"

#include <filesystem>

namespace lathe {

std::optional<Tokenizer> modelTokenizer(const LoadedModel &model)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    switch (model.format) {
    case ModelFormat::HfFolder:
        // tokenizer.json first (it carries the added tokens); older SentencePiece
        // checkpoints (Llama 2, Mistral v1) may ship only tokenizer.model.
        for (const char *name : {"tokenizer.json", "tokenizer.model"})
            if (const fs::path p = fs::path(model.path) / name; fs::exists(p, ec))
                return Tokenizer::fromFile(p.string());
        break;
    case ModelFormat::Llama2c:
        if (const fs::path p = fs::path(model.path).parent_path() / "tokenizer.bin"; fs::exists(p, ec))
            return Tokenizer::fromFile(p.string());
        break;
    case ModelFormat::Gguf:
        // "none" is what init writes (and llama.cpp reads) for a model without a vocabulary.
        if (model.gguf && model.gguf->has("tokenizer.ggml.tokens") &&
            model.gguf->getString("tokenizer.ggml.model").value_or("") != "none")
            return Tokenizer::fromGgufVocab(ggufVocab(*model.gguf));
        break;
    }
    return std::nullopt;
}

} // namespace lathe
