// AdamW update (see AdamW.h for the formula and why it runs in double per element).
#include "train/optim/AdamW.h"

#include "core/Error.h"
#include "core/ThreadPool.h"

#include <cmath>

namespace lathe {

void AdamW::attach(const std::vector<TrainParam<float>> &params)
{
    m_steps = 0;
    m_m.assign(params.size(), {});
    m_v.assign(params.size(), {});
    for (size_t i = 0; i < params.size(); ++i) {
        m_m[i].assign(params[i].value.size(), 0.0f);
        m_v[i].assign(params[i].value.size(), 0.0f);
    }
}

void AdamW::step(std::vector<TrainParam<float>> &params, double lr, ThreadPool *pool)
{
    if (params.size() != m_m.size())
        fail("AdamW: " + std::to_string(params.size()) + " parameters, state for " + std::to_string(m_m.size()));
    ++m_steps;
    const double b1 = m_config.beta1, b2 = m_config.beta2, eps = m_config.eps;
    const double bc1 = 1.0 - std::pow(b1, double(m_steps));
    const double sqrtBc2 = std::sqrt(1.0 - std::pow(b2, double(m_steps)));
    const double stepSize = lr / bc1;
    for (size_t i = 0; i < params.size(); ++i) {
        TrainParam<float> &p = params[i];
        if (p.value.size() != m_m[i].size() || p.grad.size() != p.value.size())
            fail("AdamW: parameter " + p.name + " changed size since the optimiser was set up");
        const double keep = decays(p) ? 1.0 - lr * m_config.weightDecay : 1.0;
        float *w = p.value.data();
        const float *g = p.grad.data();
        float *m = m_m[i].data(), *v = m_v[i].data();
        auto body = [&](int64_t begin, int64_t end, int) {
            for (int64_t k = begin; k < end; ++k) {
                const double gk = g[k];
                const double mk = b1 * double(m[k]) + (1.0 - b1) * gk;
                const double vk = b2 * double(v[k]) + (1.0 - b2) * gk * gk;
                m[k] = float(mk);
                v[k] = float(vk);
                const double denom = std::sqrt(double(v[k])) / sqrtBc2 + eps;
                w[k] = float(double(w[k]) * keep - stepSize * double(m[k]) / denom);
            }
        };
        if (pool && p.size() >= 4096)
            pool->parallelFor(p.size(), body, 1024);
        else
            body(0, p.size(), 0);
    }
}

int64_t AdamW::stateBytes() const
{
    int64_t n = 0;
    for (size_t i = 0; i < m_m.size(); ++i)
        n += int64_t(m_m[i].size() + m_v[i].size()) * int64_t(sizeof(float));
    return n;
}

void AdamW::restore(int64_t steps, std::vector<std::vector<float>> m, std::vector<std::vector<float>> v,
                    const std::vector<TrainParam<float>> &params)
{
    if (steps < 0)
        fail("AdamW: negative step count " + std::to_string(steps));
    if (m.size() != params.size() || v.size() != params.size())
        fail("AdamW: state for " + std::to_string(m.size()) + " parameters, the model has " +
             std::to_string(params.size()));
    for (size_t i = 0; i < params.size(); ++i)
        if (m[i].size() != params[i].value.size() || v[i].size() != params[i].value.size())
            fail("AdamW: state of " + params[i].name + " has " + std::to_string(m[i].size()) +
                 " elements, the parameter " + std::to_string(params[i].value.size()));
    m_steps = steps;
    m_m = std::move(m);
    m_v = std::move(v);
}

} // namespace lathe
