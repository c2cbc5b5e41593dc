// Tokenizer::fromFile: the convenience loader over the byte-based builders.
#include "core/Error.h"
#include "tokenizer/Tokenizer.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace lathe {

namespace {
std::string readAll(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail(path + ": cannot open");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (!in && !in.eof())
        fail(path + ": read error");
    return ss.str();
}
} // namespace

Tokenizer Tokenizer::fromFile(const std::string &path)
{
    namespace fs = std::filesystem;
    const std::string name = fs::path(path).filename().string();
    const std::string bytes = readAll(path);
    return withContext(path, [&] {
        if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".json") == 0) {
            const fs::path config = fs::path(path).parent_path() / "tokenizer_config.json";
            std::error_code ec;
            const std::string cfg = fs::exists(config, ec) ? readAll(config.string()) : std::string();
            return fromTokenizerJson(bytes, cfg);
        }
        if (name.find(".model") != std::string::npos)
            return fromSentencePiece(bytes);
        if (name.size() >= 4 && name.compare(name.size() - 4, 4, ".bin") == 0)
            return fromLlama2c(bytes);
        fail("unknown tokenizer file type (expected tokenizer.json, *.model or a llama2.c *.bin)");
    });
}

} // namespace lathe
