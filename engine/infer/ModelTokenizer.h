// modelTokenizer(): the tokenizer that belongs to a loaded model, found in the model's own
// files. One place for the rule, so that generation, perplexity and training read the
// same tokenizer for the same model.
#pragma once

#include "model/LoadedModel.h"
#include "tokenizer/Tokenizer.h"

#include <optional>

namespace lathe {

// The model's tokenizer, by format:
//  - GGUF: the vocabulary in the file's metadata (tokenizer.ggml.*), unless it has none
//    or names the model "none" (what a vocabulary-less file says);
//  - Hugging Face folder: tokenizer.json in the folder (with tokenizer_config.json
//    beside it, see Tokenizer::fromFile), else its SentencePiece tokenizer.model;
//  - llama2.c checkpoint: tokenizer.bin beside the checkpoint.
// nullopt when the model's files carry none. Throws Error (naming the file and field)
// when there is one and it cannot be read.
std::optional<Tokenizer> modelTokenizer(const LoadedModel &model);

} // namespace lathe
