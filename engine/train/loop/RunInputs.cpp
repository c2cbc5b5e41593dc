// Loading a run's model, tokenizer and data (see RunInputs.h).
#include "train/loop/RunInputs.h"

#include "core/Error.h"
#include "data/DatasetPipeline.h"
#include "infer/ModelTokenizer.h"
#include "model/gguf/GgufFile.h"
#include "train/loop/TrainerImpl.h"
#include "train/spec/RunSpec.h"

#include <filesystem>

namespace lathe {

namespace {
namespace fs = std::filesystem;
}

std::string modelChatTemplate(const LoadedModel &model)
{
    if (model.format == ModelFormat::Gguf && model.gguf)
        return model.gguf->getString("tokenizer.chat_template").value_or("");
    if (model.format == ModelFormat::HfFolder)
        return chatTemplateFromConfig((fs::path(model.path) / "tokenizer_config.json").string());
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
    std::optional<Tokenizer> tok = withContext(where + ": tokenizer", [&]() -> std::optional<Tokenizer> {
        if (!spec.tokenizer.empty())
            return Tokenizer::fromFile(spec.tokenizer);
        return modelTokenizer(*in.model);
    });
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
