// RoPE inverse frequencies per rotary pair, with the config's scaling folded in:
// invFreq[i] = theta^(-2i/ropeDim), computed in double; linear scaling divides every
// frequency by the factor (positions / factor); llama3 scaling follows Meta's reference
// (keep high frequencies, divide low ones by factor, interpolate smoothly between).
#pragma once

#include "model/ModelConfig.h"

#include <vector>

namespace lathe {

std::vector<double> ropeInverseFrequencies(const ModelConfig &config);

} // namespace lathe
