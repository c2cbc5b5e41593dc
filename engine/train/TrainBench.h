// TrainBench: the throughput of TrainModel::forwardBackward alone (no optimiser, no data
// pipeline): random token ids, one sequence per row, every token a target. For
// `lathe-cli bench train` and for comparing kernels; it prints nothing itself.
#pragma once

#include "train/TrainModel.h"

#include <cstdint>
#include <string>

namespace lathe {

struct TrainBenchOptions
{
    int64_t rows = 8;    // B
    int64_t seqLen = 256; // T
    int steps = 3;       // timed forwardBackward calls, after one untimed warm-up
    uint64_t seed = 1;   // token ids
};

struct TrainBenchResult
{
    int64_t tokensPerStep = 0;
    double secondsPerStep = 0; // median of the timed steps
    double tokensPerSecond = 0;
    double cpuSecondsPerStep = 0; // process CPU time (all threads), median: robust on a busy machine
    int64_t trainableParams = 0;
    TrainMemory memory;
    double loss = 0; // mean NLL of the last step (a sanity figure: ~ln(V) for random ids)
};

// Builds a TrainModel<float> over (config, base) with options and times forwardBackward.
// Throws Error as TrainModel does.
TrainBenchResult benchTrainStep(const ModelConfig &config, const Weights &base, const TrainModelOptions &options,
                                const TrainBenchOptions &bench, ThreadPool *pool);

// One line: "label: 2048 tokens/step, 1234 tokens/s (0.567 s/step, 1.1 CPU-s/step), ...".
std::string formatTrainBench(const std::string &label, const TrainBenchResult &r);

} // namespace lathe
