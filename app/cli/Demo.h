// The parts of `lathe-cli demo`, which CmdDemo.cpp runs in order: the built-in corpus
// (compiled in from resources/demo/corpus.txt), the small byte-level llama it trains,
// text samples from a model, and the full fine-tune as a job of the demo's own store,
// with a summary kept beside it so that a second run can show the result again without
// retraining.
#pragma once

#include "train/loop/TrainMetrics.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lathe {
struct ModelConfig;
}

namespace lathe::cli::demo {

// The corpus text as compiled into the binary (never empty).
std::string_view corpus();

// The demo model's shape: a 4-layer llama over a byte vocabulary (<unk>, <s>, </s>, the
// 256 bytes, "▁"), small enough to fine-tune in about a minute on two cores.
ModelConfig modelConfig();
// Writes the model with random weights from a fixed seed as an F32 GGUF (temp + rename).
void writeModel(const std::string &path);

// Prints a few continuations of fixed prompts (greedy, then sampled with fixed seeds),
// one per line, prompt included, bytes that are not printable escaped.
void printSamples(const std::string &modelPath, int threads, int maxTokens);

// Where the demo keeps its files and how it trains.
struct Setup
{
    std::string dir;       // the demo folder
    std::string model;     // the model file (in dir)
    std::string specPath;  // the run spec written for the job (in dir)
    std::string dbPath;    // the demo's store (in dir)
    std::string summary;   // the summary of the last training (in dir)
    int64_t steps = 0;     // optimiser steps
    int threads = 0;       // 0: all
};

// What a training produced; saved as JSON beside the store so that a second run can
// reuse the trained model and still show the figures.
struct Summary
{
    int64_t jobId = 0, runId = 0, steps = 0, tokens = 0;
    double evalBefore = 0, evalAfter = 0; // validation loss (nats per token)
    double seconds = 0;                  // the training loop, evaluations included
    double stepSeconds = 0;              // the optimiser steps alone (what tokens/s divides by)
    TrainMemoryReport peak;
    std::string checkpoint; // its folder; the trained model is model.gguf inside
    std::string trainedModel() const { return checkpoint + "/model.gguf"; }
};

// The demo's CPU power estimate when RAPL is unreadable: a desktop CPU package.
inline constexpr double kCpuWatts = 65;

// Writes the corpus and the run spec into setup.dir, submits the spec as a train job to
// the demo's store and runs it in this process through the job queue (as `lathe-cli
// train` does), printing a short line every few steps. Ctrl-C cancels it after the
// current step. Saves and returns the summary; throws Error when the job fails or is
// cancelled.
Summary train(const Setup &setup);

// Writes the summary to setup.summary (temp + rename).
void saveSummary(const Setup &setup, const Summary &summary);

// The summary of an earlier training that is still usable: same step count, its run
// completed in the store and its trained model still on disk. nullopt otherwise.
std::optional<Summary> previousTraining(const Setup &setup);

// Validation loss and perplexity before and after, speed, wall time, peak memory by
// component and the run's cost from the store, with the commands to look at it
// (DemoResults.cpp, with the two above).
void printResults(const Setup &setup, const Summary &summary);

} // namespace lathe::cli::demo
