// Finding the tokenizers behind a path given on the command line, without loading any
// weights (tokenize, template, bench tokenizer). The tokenizer of a loaded model is
// engine/infer/ModelTokenizer.h's modelTokenizer().
#include "CliCommon.h"
#include "core/Error.h"
#include "model/gguf/GgufFile.h"
#include "model/gguf/GgufVocab.h"

#include <filesystem>
#include <fstream>

namespace lathe::cli {

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
