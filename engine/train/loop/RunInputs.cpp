// Loading a run's model, tokenizer and data (see RunInputs.h).
#include "train/loop/RunInputs.h"

#include "core/Error.h"
#include "model/gguf/GgufFile.h"
#include "model/gguf/GgufVocab.h"
#include "train/checkpoint/FileIo.h"
#include "train/loop/TrainerImpl.h"
#include "train/spec/RunSpec.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace lathe {

namespace {
namespace fs = std::filesystem;
}

std::optional<Tokenizer> modelTokenizer(const LoadedModel &model, const std::string &overridePath)
{
    if (!overridePath.empty())
        return Tokenizer::fromFile(overridePath);
    std::error_code ec;
    switch (model.format) {
    case ModelFormat::HfFolder:
        if (fs::exists(fs::path(model.path) / "tokenizer.json", ec))
            return Tokenizer::fromFile((fs::path(model.path) / "tokenizer.json").string());
        break;
    case ModelFormat::Llama2c:
        if (fs::exists(fs::path(model.path).parent_path() / "tokenizer.bin", ec))
            return Tokenizer::fromFile((fs::path(model.path).parent_path() / "tokenizer.bin").string());
        break;
    case ModelFormat::Gguf:
        if (model.gguf && model.gguf->has("tokenizer.ggml.tokens") &&
            model.gguf->getString("tokenizer.ggml.model").value_or("") != "none")
            return Tokenizer::fromGgufVocab(ggufVocab(*model.gguf));
        break;
    }
    return std::nullopt;
}

std::string modelChatTemplate(const LoadedModel &model)
{
    if (model.format == ModelFormat::Gguf && model.gguf)
        return model.gguf->getString("tokenizer.chat_template").value_or("");
    if (model.format != ModelFormat::HfFolder)
        return {};
    const fs::path cfg = fs::path(model.path) / "tokenizer_config.json";
    std::error_code ec;
    if (!fs::exists(cfg, ec))
        return {};
    const nlohmann::json j = nlohmann::json::parse(readFileText(cfg.string(), size_t(64) << 20), nullptr, false);
    if (!j.is_object() || !j.contains("chat_template"))
        return {};
    const nlohmann::json &t = j["chat_template"];
    if (t.is_string())
        return t.get<std::string>();
    if (t.is_array()) // [{"name": "default", "template": ...}, ...]
        for (const nlohmann::json &e : t)
            if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
                return e["template"].get<std::string>();
    return {};
}

RunInputs loadRunInputs(const RunSpec &spec, const std::string &where)
{
    RunInputs in;
    LoadOptions lo;
    if (!spec.tokenizer.empty())
        lo.llama2cTokenizerPath = spec.tokenizer;
    in.model = std::make_shared<const LoadedModel>(
        withContext(where + ": model", [&] { return loadModel(spec.model, lo); }));
    spec.validateAgainstModel(in.model->config, where);
    std::optional<Tokenizer> tok = withContext(where + ": tokenizer", [&] { return modelTokenizer(*in.model, spec.tokenizer); });
    if (!tok)
        fail(where + ": tokenizer: the model " + spec.model + " carries no tokenizer this build can read; name one");
    if (tok->vocabSize() > in.model->config.vocabSize)
        fail(where + ": tokenizer: " + std::to_string(tok->vocabSize()) + " tokens, more than the model's vocabulary of " +
             std::to_string(in.model->config.vocabSize));
    in.data = prepareDataset(spec.data, *tok, modelChatTemplate(*in.model));
    checkVocabulary(in.data, in.model->config.vocabSize, where);
    in.padId = tok->padId() >= 0 ? tok->padId() : (tok->eosId() >= 0 ? tok->eosId() : 0);
    return in;
}

// Here rather than in Trainer.cpp so that programs that hand the trainer prepared data
// do not link the dataset pipeline.
Trainer::Trainer(const RunSpec &spec, const std::string &where) : m_impl(std::make_unique<Impl>())
{
    RunInputs in = loadRunInputs(spec, where);
    m_impl->spec = spec;
    m_impl->where = where;
    m_impl->base = std::move(in.model);
    m_impl->data = std::move(in.data);
    m_impl->padId = in.padId;
    m_impl->build();
}

} // namespace lathe
