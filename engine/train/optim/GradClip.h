// Global-norm gradient clipping (torch.nn.utils.clip_grad_norm_ with the L2 norm):
// the norm of all gradients taken as one vector; when it exceeds maxNorm every gradient
// is multiplied by maxNorm / (norm + 1e-6). Also the unscale step of loss scaling and
// the overflow check that decides whether a scaled step is skipped.
#pragma once

#include "train/TrainModel.h"

#include <vector>

namespace lathe {

// The L2 norm of every grad together, summed in double in a fixed order (deterministic).
// Returns +inf or NaN when any grad is not finite.
double globalGradNorm(const std::vector<TrainParam<float>> &params);

// Multiplies every grad by factor (used to unscale after loss scaling).
void scaleGrads(std::vector<TrainParam<float>> &params, double factor);

// Clips to maxNorm (> 0; 0 or less disables clipping) given the norm computed before.
// Returns the factor applied (1 when nothing was clipped).
double clipGradNorm(std::vector<TrainParam<float>> &params, double norm, double maxNorm);

// True when every grad element is finite.
bool gradsFinite(const std::vector<TrainParam<float>> &params);

} // namespace lathe
