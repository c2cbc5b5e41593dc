// LossScaler: fp16 dynamic loss scaling with the policy of torch.cuda.amp.GradScaler.
// The loss (hence every gradient) is multiplied by scale() so small fp16 gradients do not
// flush to zero. After the accumulated backward: if any gradient is inf/NaN the step is
// skipped and the scale halved; otherwise grads are unscaled and the step taken, and
// after growthInterval good steps in a row the scale doubles. A static scale never changes;
// a disabled scaler has scale 1 (f32 and bf16 runs).
#pragma once

#include <cstdint>

namespace lathe {

struct LossScaleConfig
{
    bool enabled = false;
    bool dynamic = true;
    double initial = 65536.0;
    double growthFactor = 2.0;
    double backoffFactor = 0.5;
    int64_t growthInterval = 2000;
    double minScale = 0.0; // floor for the scale; 0: none, as torch
};

class LossScaler
{
public:
    explicit LossScaler(const LossScaleConfig &config = {});

    double scale() const { return m_scale; }
    int64_t goodSteps() const { return m_goodSteps; }
    int64_t skippedSteps() const { return m_skipped; }

    // Records the outcome of one optimiser step: foundNonFinite true means the step was
    // skipped. Returns true when the step should be applied.
    bool update(bool foundNonFinite);

    // State for checkpoints.
    void restore(double scale, int64_t goodSteps, int64_t skipped);

private:
    LossScaleConfig m_config;
    double m_scale = 1.0;
    int64_t m_goodSteps = 0;
    int64_t m_skipped = 0;
};

} // namespace lathe
