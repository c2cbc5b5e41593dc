// Hugging Face config.json / generation_config.json -> ModelConfig.
// Fields follow transformers' LlamaConfig/Qwen2Config/... names; every error names the
// file and field ("config.json field hidden_size: expected an integer, got string").
#pragma once

#include "model/ModelConfig.h"

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace lathe {

// Reads a JSON file of at most 64 MB; throws Error "NAME: ..." if it is missing,
// too large or not valid JSON.
nlohmann::json readJsonFile(const std::string &path, const std::string &name);

// Builds the config of a model from its config.json (and generation_config.json when
// the folder has one, else null). Does not call validate(); the loader does, after it
// has seen the weights. HF checkpoints always use the rotate-half RoPE layout.
ModelConfig parseHfConfig(const nlohmann::json &config, const nlohmann::json &generationConfig);

} // namespace lathe
