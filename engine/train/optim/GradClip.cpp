// Gradient norm, scaling and clipping (see GradClip.h).
#include "train/optim/GradClip.h"

#include <cmath>

namespace lathe {

double globalGradNorm(const std::vector<TrainParam<float>> &params)
{
    double sum = 0.0;
    for (const TrainParam<float> &p : params)
        for (float g : p.grad)
            sum += double(g) * double(g);
    return std::sqrt(sum);
}

void scaleGrads(std::vector<TrainParam<float>> &params, double factor)
{
    if (factor == 1.0)
        return;
    for (TrainParam<float> &p : params)
        for (float &g : p.grad)
            g = float(double(g) * factor);
}

double clipGradNorm(std::vector<TrainParam<float>> &params, double norm, double maxNorm)
{
    if (maxNorm <= 0.0 || !std::isfinite(norm))
        return 1.0;
    const double coef = maxNorm / (norm + 1e-6);
    if (coef >= 1.0)
        return 1.0;
    scaleGrads(params, coef);
    return coef;
}

bool gradsFinite(const std::vector<TrainParam<float>> &params)
{
    for (const TrainParam<float> &p : params)
        for (float g : p.grad)
            if (!std::isfinite(g))
                return false;
    return true;
}

} // namespace lathe
