// RoPE frequency table (see RopeFrequencies.h for the formulas).
#include "infer/RopeFrequencies.h"

#include <cmath>
#include <numbers>

namespace lathe {

std::vector<double> ropeInverseFrequencies(const ModelConfig &config)
{
    const int pairs = config.ropeDim / 2;
    std::vector<double> f(static_cast<size_t>(pairs));
    const RopeScaling &s = config.ropeScaling;
    for (int i = 0; i < pairs; ++i) {
        double freq = std::pow(double(config.ropeTheta), -2.0 * i / double(config.ropeDim));
        if (s.kind == RopeScaling::Kind::Linear && s.factor > 0) {
            freq /= double(s.factor);
        } else if (s.kind == RopeScaling::Kind::Llama3 && s.factor > 0) {
            const double oldCtx = double(s.originalContext);
            const double lowWavelen = oldCtx / double(s.lowFreqFactor);
            const double highWavelen = oldCtx / double(s.highFreqFactor);
            const double wavelen = 2.0 * std::numbers::pi / freq;
            if (wavelen < highWavelen) {
                // high frequency: unchanged
            } else if (wavelen > lowWavelen) {
                freq /= double(s.factor);
            } else {
                const double smooth = (oldCtx / wavelen - double(s.lowFreqFactor)) /
                                      (double(s.highFreqFactor) - double(s.lowFreqFactor));
                freq = (1.0 - smooth) * freq / double(s.factor) + smooth * freq;
            }
        }
        f[size_t(i)] = freq;
    }
    return f;
}

} // namespace lathe
