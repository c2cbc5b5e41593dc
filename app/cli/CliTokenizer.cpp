// Finding tokenizers: the one that belongs to a loaded model (tokenizerFor, for text
// prompts and decoded output) and the ones behind a path given on the command line,
// which load no weights (tokenize, template, bench tokenizer).
#include "CliCommon.h"
#include "core/Error.h"
#include "model/gguf/GgufFile.h"
#include "model/gguf/GgufVocab.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

namespace lathe::cli {

std::optional<Tokenizer> tokenizerFor(const LoadedModel &model)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    switch (model.format) {
    case ModelFormat::HfFolder:
        if (fs::exists(fs::path(model.path) / "tokenizer.json", ec))
            return Tokenizer::fromFile((fs::path(model.path) / "tokenizer.json").string());
        break;
    case ModelFormat::Llama2c:
        // llama2.c keeps its tokenizer beside the checkpoint.
        if (fs::exists(fs::path(model.path).parent_path() / "tokenizer.bin", ec))
            return Tokenizer::fromFile((fs::path(model.path).parent_path() / "tokenizer.bin").string());
        break;
    case ModelFormat::Gguf:
        // "none" is what init writes (and llama.cpp reads) for a model without a vocabulary.
        if (model.gguf && model.gguf->has("tokenizer.ggml.tokens") &&
            model.gguf->getString("tokenizer.ggml.model").value_or("") != "none")
            return Tokenizer::fromGgufVocab(ggufVocab(*model.gguf));
        break;
    }
    spdlog::debug("no tokenizer found for {}", model.path);
    return std::nullopt;
}

bool isGgufFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    char magic[4] = {};
    return in && in.read(magic, 4) && std::string_view(magic, 4) == "GGUF";
}

namespace {
Tokenizer fromGguf(const std::string &path)
{
    const std::shared_ptr<const GgufFile> gguf = GgufFile::open(path);
    if (!gguf->has("tokenizer.ggml.tokens") || gguf->getString("tokenizer.ggml.model").value_or("") == "none")
        fail(path + ": the GGUF file carries no tokenizer vocabulary (tokenizer.ggml.tokens)");
    return Tokenizer::fromGgufVocab(ggufVocab(*gguf));
}
} // namespace

Tokenizer tokenizerFromFilePath(const std::string &path)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(path, ec))
        fail(path + ": is a folder; --tokenizer takes a tokenizer file (use --model for a model folder)");
    if (isGgufFile(path))
        return fromGguf(path);
    return Tokenizer::fromFile(path);
}

Tokenizer tokenizerFromModelPath(const std::string &path)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(path, ec))
        fail(path + ": no such file or folder");
    if (fs::is_directory(path, ec)) {
        for (const char *name : {"tokenizer.json", "tokenizer.model"})
            if (fs::exists(fs::path(path) / name, ec))
                return Tokenizer::fromFile((fs::path(path) / name).string());
        fail(path + ": the folder has neither tokenizer.json nor tokenizer.model");
    }
    if (isGgufFile(path))
        return fromGguf(path);
    // Otherwise a llama2.c checkpoint: its tokenizer lives beside it.
    const fs::path beside = fs::path(path).parent_path() / "tokenizer.bin";
    if (fs::exists(beside, ec))
        return Tokenizer::fromFile(beside.string());
    fail(path + ": not a GGUF file or a model folder, and no llama2.c tokenizer.bin beside it (give --tokenizer)");
}

Tokenizer tokenizerFromOptions(const ArgParser &args)
{
    if (args.has("tokenizer"))
        return tokenizerFromFilePath(args.value("tokenizer"));
    return tokenizerFromModelPath(args.value("model"));
}

} // namespace lathe::cli
