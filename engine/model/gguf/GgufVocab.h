// Reads a GGUF file's tokenizer.ggml.* metadata into the plain GgufVocab the tokenizer
// library builds from (so lathe_tokenizer needs no GGUF parser).
#pragma once

#include "model/gguf/GgufFile.h"
#include "tokenizer/GgufVocab.h"

namespace lathe {

// Throws Error naming the key when a present key has the wrong type or the arrays
// disagree in length; absent optional keys stay empty / unset.
GgufVocab ggufVocab(const GgufFile &file);

} // namespace lathe
