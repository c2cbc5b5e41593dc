// ModelIdentity: what a checkpoint records about the base model it was trained on, so
// that resuming or merging onto another model is refused instead of producing garbage:
// the architecture, the dimensions, a hash of the whole config and the size of the
// weight file(s). The path is kept for messages only (a model may move).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace lathe {

struct LoadedModel;
struct ModelConfig;

struct ModelIdentity
{
    std::string arch;
    nlohmann::json dims;    // vocab, dim, layers, heads, kv_heads, head_dim, ffn, context
    std::string configHash; // fnv1a64 of every ModelConfig field
    int64_t fileBytes = 0;  // the model file, or a folder's config.json + *.safetensors
    std::string path;

    static ModelIdentity of(const LoadedModel &model);
    static ModelIdentity of(const ModelConfig &config, const std::string &path);
    nlohmann::json toJson() const;
    // Throws Error naming where and the field when j is malformed.
    static ModelIdentity fromJson(const nlohmann::json &j, const std::string &where);

    // Empty when other is the same model; otherwise what differs, for the message
    // ("arch qwen2 vs llama", "dim 64 vs 128", "weight files 1185376 vs 1185400 bytes").
    std::string differences(const ModelIdentity &other) const;
};

} // namespace lathe
