#include "core/Error.h"
#include "model/LoadedModel.h"

#include <cstring>
#include <filesystem>
#include <fstream>

namespace lathe {

const char *modelFormatName(ModelFormat f)
{
    switch (f) {
    case ModelFormat::Gguf: return "gguf";
    case ModelFormat::HfFolder: return "hf";
    case ModelFormat::Llama2c: return "llama2c";
    }
    return "unknown";
}

LoadedModel loadModel(const std::string &path, const LoadOptions &options)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    if (fs::is_directory(path, ec))
        return loadHfModel(path);
    if (!fs::exists(path, ec))
        fail("model " + path + ": no such file or directory");
    char magic[4] = {};
    {
        std::ifstream in(path, std::ios::binary);
        if (!in)
            fail("model " + path + ": cannot open");
        in.read(magic, 4);
    }
    if (std::memcmp(magic, "GGUF", 4) == 0)
        return loadGgufModel(path);
    if (fs::path(path).filename() == "model.safetensors" || fs::path(path).extension() == ".safetensors" ||
        fs::path(path).filename() == "config.json")
        return loadHfModel(fs::path(path).parent_path().string());
    if (fs::path(path).extension() == ".bin")
        return loadLlama2cModel(path, options);
    fail("model " + path + ": not a GGUF file, a Hugging Face folder or a llama2.c .bin checkpoint");
}

} // namespace lathe
