// ggufVocab: tokenizer.ggml.* keys of a GgufFile -> GgufVocab (see GgufVocab.h).
#include "model/gguf/GgufVocab.h"

#include "core/Error.h"

namespace lathe {

GgufVocab ggufVocab(const GgufFile &f)
{
    return withContext(f.path(), [&] {
        GgufVocab v;
        v.model = f.getString("tokenizer.ggml.model").value_or("");
        if (v.model.empty())
            fail("tokenizer.ggml.model is missing: the file carries no tokenizer");
        v.pre = f.getString("tokenizer.ggml.pre").value_or("");
        v.tokens = f.getStringArray("tokenizer.ggml.tokens").value_or(std::vector<std::string>{});
        if (const auto s = f.getFloatArray("tokenizer.ggml.scores"))
            v.scores.assign(s->begin(), s->end());
        if (const auto t = f.getIntArray("tokenizer.ggml.token_type")) {
            v.tokenTypes.reserve(t->size());
            for (int64_t x : *t)
                v.tokenTypes.push_back(x < INT32_MIN || x > INT32_MAX ? 0 : int32_t(x));
        }
        v.merges = f.getStringArray("tokenizer.ggml.merges").value_or(std::vector<std::string>{});
        v.bosId = f.getInt("tokenizer.ggml.bos_token_id").value_or(-1);
        v.eosId = f.getInt("tokenizer.ggml.eos_token_id").value_or(-1);
        v.unkId = f.getInt("tokenizer.ggml.unknown_token_id").value_or(-1);
        v.padId = f.getInt("tokenizer.ggml.padding_token_id").value_or(-1);
        v.eotId = f.getInt("tokenizer.ggml.eot_token_id").value_or(-1);
        v.addBos = f.getBool("tokenizer.ggml.add_bos_token");
        v.addEos = f.getBool("tokenizer.ggml.add_eos_token");
        v.addSpacePrefix = f.getBool("tokenizer.ggml.add_space_prefix");
        return v;
    });
}

} // namespace lathe
