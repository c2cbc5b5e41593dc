// AdamW: Adam with decoupled weight decay, exactly as torch.optim.AdamW (amsgrad off):
//   p <- p * (1 - lr * wd)
//   m <- b1 m + (1 - b1) g           v <- b2 v + (1 - b2) g^2
//   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// Moments are f32 (one pair per trainable element); the per-element arithmetic runs in
// double and rounds once on store, so the result does not depend on the thread split.
// Parameters without decay (norms and biases, i.e. 1-D tensors, as Hugging Face's Trainer
// excludes them) only get the Adam update.
#pragma once

#include "train/TrainModel.h"

#include <cstdint>
#include <vector>

namespace lathe {

struct AdamWConfig
{
    double lr = 1e-4; // the peak rate; the schedule scales it per step
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weightDecay = 0.0;
};

class AdamW
{
public:
    explicit AdamW(const AdamWConfig &config) : m_config(config) {}

    // Sizes the state for params (zero moments, step 0). Must be called before step().
    void attach(const std::vector<TrainParam<float>> &params);

    // One update of every param from its grad (already unscaled and clipped) with learning
    // rate lr. Throws Error if params no longer match what attach() saw.
    void step(std::vector<TrainParam<float>> &params, double lr, ThreadPool *pool = nullptr);

    // Updates done so far (t in the bias correction).
    int64_t steps() const { return m_steps; }
    const AdamWConfig &config() const { return m_config; }
    int64_t stateBytes() const;

    // State for checkpoints: one moment vector per param, in params order.
    const std::vector<std::vector<float>> &firstMoments() const { return m_m; }
    const std::vector<std::vector<float>> &secondMoments() const { return m_v; }
    // Restores state saved from the same params; throws Error naming the param whose size differs.
    void restore(int64_t steps, std::vector<std::vector<float>> m, std::vector<std::vector<float>> v,
                 const std::vector<TrainParam<float>> &params);

    // Whether weight decay applies to a parameter of this shape (matrices only).
    static bool decays(const TrainParam<float> &param) { return param.shape.size() >= 2; }

private:
    AdamWConfig m_config;
    int64_t m_steps = 0;
    std::vector<std::vector<float>> m_m, m_v;
};

} // namespace lathe
