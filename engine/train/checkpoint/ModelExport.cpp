// Writing a modified copy of a model (see ModelExport.h).
#include "train/checkpoint/ModelExport.h"

#include "core/Error.h"
#include "model/write/ModelWriter.h"

#include <filesystem>
#include <memory>

namespace lathe {

namespace {

namespace fs = std::filesystem;

bool endsWith(const std::string &s, const std::string &suffix)
{
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

} // namespace

Weights overlayWeights(const Weights &base, std::map<std::string, F32Tensor> replacements)
{
    Weights out;
    for (const std::string &name : base.names()) {
        const TensorView &orig = base.get(name);
        auto it = replacements.find(name);
        if (it == replacements.end()) {
            out.add(orig);
            continue;
        }
        if (it->second.shape != orig.shape || int64_t(it->second.values.size()) != orig.numel())
            fail("tensor " + name + ": new shape " + shapeString(it->second.shape) + ", the model has " +
                 shapeString(orig.shape));
        auto owned = std::make_shared<std::vector<float>>(std::move(it->second.values));
        TensorView v;
        v.name = name;
        v.dtype = DType::F32;
        v.shape = orig.shape;
        v.data = owned->data();
        v.bytes = owned->size() * sizeof(float);
        out.add(v);
        out.keepAlive(owned);
        replacements.erase(it);
    }
    if (!replacements.empty())
        fail("tensor " + replacements.begin()->first + " is not a tensor of the model");
    return out;
}

std::vector<std::string> writeModelAs(const LoadedModel &base, const Weights &weights, const std::string &out,
                                      DType type)
{
    WriteReport report;
    if (endsWith(out, ".gguf")) {
        GgufWriteOptions o;
        o.weightType = type;
        if (base.format == ModelFormat::Gguf)
            o.tokenizerFrom = base.path;
        o.name = fs::path(out).stem().string();
        report = writeGgufModel(base.config, weights, out, o);
    } else {
        if (type != DType::F32 && type != DType::F16 && type != DType::BF16)
            fail(out + ": a Hugging Face folder holds F32, F16 or BF16 weights, not " + dtypeName(type));
        report = writeHfModel(base.config, weights, out, type);
        if (base.format == ModelFormat::HfFolder) {
            for (const char *f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                  "tokenizer.model"}) {
                std::error_code ec;
                const fs::path src = fs::path(base.path) / f;
                if (fs::exists(src, ec))
                    fs::copy_file(src, fs::path(out) / f, fs::copy_options::overwrite_existing, ec);
                if (ec)
                    fail(out + ": copying " + f + ": " + ec.message());
            }
        } else {
            report.notes.push_back("the base model's tokenizer is not in a form a Hugging Face folder holds; "
                                   "none was written");
        }
    }
    return report.notes;
}

} // namespace lathe
