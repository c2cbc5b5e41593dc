// lathe-cli bench train: training throughput and peak memory by component on the CPU for
// a model file and/or a preset with random weights, in LoRA (f32 base), QLoRA (NF4 base)
// and full fine-tuning. The data are random token ids (speed does not depend on them);
// the first step is an untimed warm-up, the figure is the median over the timed steps.
#include "CliCommon.h"
#include "Commands.h"
#include "core/Error.h"
#include "infer/Rng.h"
#include "model/write/ModelInit.h"
#include "model/write/ModelPresets.h"
#include "train/loop/Trainer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

namespace lathe::cli {

namespace {

struct Case
{
    std::string label;
    std::shared_ptr<const LoadedModel> model;
};

std::shared_ptr<const LoadedModel> presetModel(const std::string &name)
{
    std::optional<ModelConfig> c = modelPreset(name);
    if (!c)
        throw UsageError("--preset: unknown preset '" + name + "'");
    completeConfig(*c);
    auto init = std::make_shared<InitializedModel>(initModel(*c, InitOptions{1}));
    auto m = std::make_shared<LoadedModel>();
    m->config = init->config;
    m->weights = init->views();
    m->weights.keepAlive(init);
    m->path = "preset:" + name;
    return m;
}

PreparedSplits randomData(int vocab, int64_t records, int64_t length, uint64_t seed)
{
    PreparedSplits s;
    Rng rng(seed);
    for (int64_t r = 0; r < records; ++r) {
        std::vector<int32_t> ids(static_cast<size_t>(length));
        for (int32_t &id : ids)
            id = int32_t(rng.next() % uint64_t(vocab));
        s.train.append(ids, std::vector<uint8_t>(ids.size(), 1));
    }
    return s;
}

double median(std::vector<double> v)
{
    if (v.empty())
        return 0.0;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

std::vector<std::string> split(const std::string &s)
{
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty())
            out.push_back(item);
    return out;
}

} // namespace

int runBenchTrain(const Args &argv)
{
    ArgParser args("bench train", "[--model PATH] [--preset NAME] [--modes lora,qlora,full] [--steps N]",
                   "Measures training speed (tokens/s: non-padding tokens through forward + backward +\n"
                   "optimiser step) and peak memory by component (frozen weights, adapter, optimiser\n"
                   "state, activations, workspace) on the CPU, with random token ids as data. The first\n"
                   "step is an untimed warm-up; the figure is the median over the timed steps.");
    args.option("model", "PATH", "a model file or folder to measure (optional)")
        .option("preset", "NAME", "a preset with random weights to measure ('none' to skip)", "tiny-llama")
        .option("modes", "LIST", "comma-separated: lora (f32 base), qlora (nf4 base), full", "lora,qlora,full")
        .option("steps", "N", "timed optimiser steps", "5")
        .option("micro-batch", "N", "rows per micro-batch", "4")
        .option("seq-len", "N", "tokens per row (capped to the model's context)", "128")
        .option("rank", "N", "LoRA rank (all linear layers)", "8")
        .option("threads", "N", "CPU threads (0: all)", "0");
    if (!args.parse(argv))
        return 0;
    const int64_t steps = args.intValue("steps", 1, 100000);
    const int64_t rows = args.intValue("micro-batch", 1, 4096);
    const int64_t seqLen = args.intValue("seq-len", 2, 1 << 20);
    const int rank = int(args.intValue("rank", 1, 4096));
    const int threads = threadsOption(args);
    std::vector<Case> cases;
    if (args.has("model"))
        cases.push_back({std::filesystem::path(args.value("model")).filename().string(), openModel(args.value("model"))});
    if (args.value("preset") != "none")
        cases.push_back({"preset " + args.value("preset"), presetModel(args.value("preset"))});
    if (cases.empty())
        throw UsageError("nothing to measure: give --model or --preset");
    const std::vector<std::string> modes = split(args.value("modes"));
    for (const std::string &mode : modes)
        if (mode != "lora" && mode != "qlora" && mode != "full")
            throw UsageError("--modes: unknown mode '" + mode + "' (lora, qlora, full)");

    std::printf("| model | mode | params trained | tokens/step | tokens/s | peak total | weights | adapter/trained | "
                "optimizer | activations | workspace |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::fflush(stdout);
    for (const Case &c : cases) {
        const ModelConfig &cfg = c.model->config;
        const int64_t T = std::min<int64_t>(seqLen, cfg.contextLength);
        for (const std::string &mode : modes) {
            RunSpec spec;
            spec.model = c.label;
            spec.mode = mode == "full" ? TrainMode::Full : TrainMode::Lora;
            spec.baseFormat = mode == "qlora" ? BaseFormat::Nf4 : BaseFormat::AsLoaded;
            spec.adapter.rank = rank;
            spec.adapter.alpha = 2.0 * rank;
            spec.adapter.targets = loraModuleNames();
            spec.optimizer.lr = 1e-4;
            spec.steps = steps + 1;
            spec.batch.microBatch = rows;
            spec.batch.seqLen = T;
            spec.batch.packing = true;
            spec.threads = threads;
            spec.seed = 1;
            if (spec.mode == TrainMode::Full && c.model->weights.totalBytes() > (size_t(2) << 30)) {
                std::printf("| %s | %s | skipped: full fine-tuning of a model this size is not a CPU benchmark |\n",
                            c.label.c_str(), mode.c_str());
                continue;
            }
            Trainer trainer(spec, c.model, randomData(cfg.vocabSize, 4 * rows * (steps + 1), T, 7), 0, "bench");
            int64_t trained = 0;
            for (const auto &p : trainer.model().params())
                trained += p.size();
            std::vector<double> tps;
            int64_t tokensPerStep = 0;
            const TrainResult r = trainer.run([&](const TrainMetrics &m) {
                if (m.trained && m.step > 1)
                    tps.push_back(m.tokensPerSecond);
                tokensPerStep = m.tokens;
                return true;
            });
            const TrainMemoryReport &pk = r.peakMemory;
            std::printf("| %s | %s | %s | %lld | %.0f | %s | %s | %s | %s | %s | %s |\n", c.label.c_str(),
                        mode.c_str(), humanCount(double(trained)).c_str(), (long long)tokensPerStep, median(tps),
                        humanBytes(double(pk.total())).c_str(), humanBytes(double(pk.weights)).c_str(),
                        humanBytes(double(pk.adapter)).c_str(), humanBytes(double(pk.optimizer)).c_str(),
                        humanBytes(double(pk.activations)).c_str(), humanBytes(double(pk.workspace)).c_str());
            std::fflush(stdout);
        }
    }
    std::printf("\n%d threads; LoRA r=%d on all linear layers; micro-batch %lld x %lld tokens; median of %lld "
                "timed steps after 1 warm-up.\n",
                threads > 0 ? threads : int(std::thread::hardware_concurrency()), rank, (long long)rows,
                (long long)seqLen, (long long)steps);
    return 0;
}

} // namespace lathe::cli
