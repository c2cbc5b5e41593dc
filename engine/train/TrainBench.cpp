// forwardBackward throughput (see TrainBench.h).
#include "train/TrainBench.h"

#include "infer/Rng.h"
#include "model/ModelConfig.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <vector>

namespace lathe {

TrainBenchResult benchTrainStep(const ModelConfig &config, const Weights &base, const TrainModelOptions &options,
                                const TrainBenchOptions &bench, ThreadPool *pool)
{
    TrainModel<float> model(config, base, options, pool);
    TrainBatch batch;
    batch.rows = bench.rows;
    batch.seqLen = bench.seqLen;
    Rng rng(bench.seed);
    for (int64_t b = 0; b < bench.rows; ++b)
        for (int64_t t = 0; t < bench.seqLen; ++t) {
            batch.tokens.push_back(int32_t(rng.next() % uint64_t(config.vocabSize)));
            batch.positions.push_back(int32_t(t));
            batch.segments.push_back(0);
        }
    for (size_t i = 0; i < batch.tokens.size(); ++i)
        batch.targets.push_back(i % size_t(bench.seqLen) + 1 < size_t(bench.seqLen) ? batch.tokens[i + 1]
                                                                                      : kIgnoreIndex);
    TrainBenchResult r;
    r.tokensPerStep = batch.size();
    for (const auto &p : model.params())
        r.trainableParams += p.size();
    const double weight = 1.0 / double(std::max<int64_t>(1, batch.targetCount()));
    std::vector<double> seconds, cpu;
    for (int s = 0; s <= std::max(1, bench.steps); ++s) {
        model.zeroGrads();
        const auto t0 = std::chrono::steady_clock::now();
        const std::clock_t c0 = std::clock();
        r.loss = model.forwardBackward(batch, weight, uint64_t(s)) * weight;
        const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        const double dc = double(std::clock() - c0) / CLOCKS_PER_SEC;
        if (s > 0) { // the first step sizes buffers and warms caches
            seconds.push_back(dt);
            cpu.push_back(dc);
        }
    }
    std::sort(seconds.begin(), seconds.end());
    std::sort(cpu.begin(), cpu.end());
    r.secondsPerStep = seconds[seconds.size() / 2];
    r.cpuSecondsPerStep = cpu[cpu.size() / 2];
    r.tokensPerSecond = double(r.tokensPerStep) / r.secondsPerStep;
    r.memory = model.memory();
    return r;
}

std::string formatTrainBench(const std::string &label, const TrainBenchResult &r)
{
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s: %lld tokens/step, %.0f tokens/s (%.3f s/step, %.3f CPU-s/step), %lld trained, loss %.3f, memory MiB: weights "
                  "%.1f, trainable %.1f, activations %.1f, workspace %.1f",
                  label.c_str(), (long long)r.tokensPerStep, r.tokensPerSecond, r.secondsPerStep, r.cpuSecondsPerStep,
                  (long long)r.trainableParams, r.loss, double(r.memory.weights) / 1048576.0,
                  double(r.memory.trainable) / 1048576.0, double(r.memory.activations) / 1048576.0,
                  double(r.memory.workspace) / 1048576.0);
    return buf;
}

} // namespace lathe
