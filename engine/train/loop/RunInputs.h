// RunInputs: everything a run needs from disk before training starts — the model, its
// tokenizer and the prepared dataset — loaded and checked against the spec so that a bad
// spec fails here, before any compute.
#pragma once

#include "data/DatasetSpec.h"
#include "model/LoadedModel.h"
#include "tokenizer/Tokenizer.h"

#include <memory>
#include <optional>
#include <string>

namespace lathe {

struct RunSpec;

struct RunInputs
{
    std::shared_ptr<const LoadedModel> model;
    PreparedSplits data;
    int32_t padId = 0; // the id placed in padding (never a target)
};

// The model's own chat template (GGUF tokenizer.chat_template, or the HF folder's
// chat_template.jinja / tokenizer_config.json chat_template, read by
// chatTemplateFromConfig); empty when it has none.
std::string modelChatTemplate(const LoadedModel &model);

// Loads the model, checks the spec against it, finds the tokenizer (spec.tokenizer when
// given, else modelTokenizer() from engine/infer/ModelTokenizer.h) and prepares the data.
// Throws Error naming the spec field or file.
RunInputs loadRunInputs(const RunSpec &spec, const std::string &where);

// Checks that every token id of the splits is inside the model's vocabulary (defined in
// Trainer.cpp, which needs it without the rest of this file).
void checkVocabulary(const PreparedSplits &data, int vocabSize, const std::string &where);

} // namespace lathe
