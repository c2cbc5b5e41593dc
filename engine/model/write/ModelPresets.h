// Named model shapes for `lathe-cli init` and tests: tiny ones that tests write and
// run in milliseconds, a ~150M llama for benchmarks, and real shapes (llama3-8b-shape)
// for `info` and memory planning only.
#pragma once

#include "model/ModelConfig.h"

#include <optional>
#include <string>
#include <vector>

namespace lathe {

// The config of a preset, or nullopt if no preset has that name.
std::optional<ModelConfig> modelPreset(const std::string &name);
std::vector<std::string> modelPresetNames();

// The preset `init --arch A` starts from when no --preset is given: "tiny-<arch>"
// (mistral: the tiny llama shape with arch mistral). Throws Error for an unknown arch.
ModelConfig defaultConfigForArch(const std::string &arch);

// Fills the fields that follow from others (headDim, ropeDim, ropeLayout, qkvBias,
// qkNorm, stop ids) after flags changed dims or the arch. Leaves an explicit headDim.
void completeConfig(ModelConfig &config);

} // namespace lathe
