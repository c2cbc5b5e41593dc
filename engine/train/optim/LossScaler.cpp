// Dynamic loss scaling (see LossScaler.h).
#include "train/optim/LossScaler.h"

#include "core/Error.h"

#include <algorithm>
#include <cmath>

namespace lathe {

LossScaler::LossScaler(const LossScaleConfig &config) : m_config(config)
{
    m_scale = config.enabled ? config.initial : 1.0;
}

bool LossScaler::update(bool foundNonFinite)
{
    if (foundNonFinite) {
        ++m_skipped;
        m_goodSteps = 0;
        if (m_config.enabled && m_config.dynamic)
            m_scale = std::max(m_config.minScale, m_scale * m_config.backoffFactor);
        return false;
    }
    if (m_config.enabled && m_config.dynamic && ++m_goodSteps >= m_config.growthInterval) {
        m_scale *= m_config.growthFactor;
        m_goodSteps = 0;
    }
    return true;
}

void LossScaler::restore(double scale, int64_t goodSteps, int64_t skipped)
{
    if (!(scale > 0.0) || !std::isfinite(scale) || goodSteps < 0 || skipped < 0)
        fail("loss scaler state: scale " + std::to_string(scale) + ", good steps " + std::to_string(goodSteps) +
             " is not valid");
    m_scale = scale;
    m_goodSteps = goodSteps;
    m_skipped = skipped;
}

} // namespace lathe
