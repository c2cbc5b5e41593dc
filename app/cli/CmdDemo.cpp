// lathe-cli demo: the README's first command. Self-contained (no downloads, no test
// fixtures): in $LATHE_HOME/demo (default ~/.cache/lathe/demo) it creates a small
// byte-level llama with random weights, shows what it writes, fully fine-tunes it on
// the built-in corpus as a job of the demo's own store, and shows what it writes then,
// with the validation loss before and after, the speed, memory and cost. A second run
// reuses the trained model (--fresh starts over). The parts are in Demo*.cpp.
#include "CliCommon.h"
#include "Commands.h"
#include "Demo.h"
#include "core/Error.h"
#include "model/ModelConfig.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace lathe::cli {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kDefaultSteps = 600; // ~70 CPU-seconds: under a minute on two idle cores
constexpr int64_t kQuickSteps = 24;    // a few seconds: the loss falls, the text stays poor

std::string demoDir(const ArgParser &args)
{
    std::string dir;
    if (args.has("dir"))
        dir = args.value("dir");
    else if (const char *home = std::getenv("LATHE_HOME"); home && *home)
        dir = std::string(home) + "/demo";
    else if (const char *home = std::getenv("HOME"); home && *home)
        dir = std::string(home) + "/.cache/lathe/demo";
    else
        fail("neither LATHE_HOME nor HOME is set; give --dir");
    // Absolute, so that the paths recorded in the store stay valid from anywhere.
    return fs::absolute(dir).lexically_normal().string();
}

void phase(int n, const char *title)
{
    std::printf("\n== [%d/5] %s\n", n, title);
    std::fflush(stdout);
}

} // namespace

int runDemo(const Args &argv)
{
    ArgParser args("demo", "[--dir DIR] [--fresh] [--steps N | --quick] [--threads N]",
                   "Lathe's main job end to end, with nothing but this binary, in about a minute or two:\n"
                   "creates a small llama-shaped model with random weights (4 layers, dim 128, byte\n"
                   "vocabulary), shows the noise it writes, fully fine-tunes it on a built-in corpus of\n"
                   "plain sentences about workshop lathes through the job queue (recorded in DIR/lathe.db\n"
                   "with its cost), and shows what it writes afterwards, with the validation loss before and\n"
                   "after, tokens/s, wall time and peak memory by component. A second run reuses the\n"
                   "trained model; --fresh starts over.");
    args.option("dir", "DIR", "where the demo keeps its files (default $LATHE_HOME/demo or ~/.cache/lathe/demo)")
        .flag("fresh", "recreate the model and train it again even if a trained one exists")
        .option("steps", "N", "optimiser steps of the fine-tune", std::to_string(kDefaultSteps))
        .flag("quick", "a few steps only (" + std::to_string(kQuickSteps) + "): checks the machinery in seconds")
        .option("threads", "N", "CPU threads (0: all)", "0");
    if (!args.parse(argv))
        return 0;
    if (args.has("quick") && args.has("steps"))
        throw UsageError("--quick and --steps contradict each other");
    const auto t0 = std::chrono::steady_clock::now();
    demo::Setup setup;
    setup.dir = demoDir(args);
    setup.model = setup.dir + "/demo-llama-byte.gguf";
    setup.specPath = setup.dir + "/demo-train.json";
    setup.dbPath = setup.dir + "/lathe.db";
    setup.summary = setup.dir + "/demo-result.json";
    setup.steps = args.has("quick") ? kQuickSteps : args.intValue("steps", 1, 1000000);
    setup.threads = threadsOption(args);
    std::error_code ec;
    fs::create_directories(setup.dir, ec);
    if (ec)
        fail("cannot create " + setup.dir + ": " + ec.message());
    std::printf("Lathe demo: a language model learns to write from scratch, on this computer (files in %s)\n",
                setup.dir.c_str());

    phase(1, "the model");
    const bool create = args.has("fresh") || !fs::exists(setup.model);
    if (create)
        demo::writeModel(setup.model);
    const ModelConfig c = demo::modelConfig();
    std::printf("  %s %s: llama, %d layers, dim %d, %d heads (%d kv), ffn %d, vocabulary of %d byte tokens, "
                "%s parameters, random weights (seed 42)\n",
                create ? "created" : "reusing (--fresh recreates it)", setup.model.c_str(), c.nLayers, c.dim,
                c.nHeads, c.nKvHeads, c.ffnDim, c.vocabSize, humanCount(double(c.parameterCount())).c_str());

    phase(2, "before training: what random weights write");
    demo::printSamples(setup.model, setup.threads, 40);

    phase(3, "full fine-tune of every weight on the built-in corpus");
    std::optional<demo::Summary> summary;
    if (!create)
        summary = demo::previousTraining(setup);
    if (summary) {
        std::printf("  already trained for %lld steps (run %lld in %s): reusing %s; --fresh trains again\n",
                    (long long)summary->steps, (long long)summary->runId, setup.dbPath.c_str(),
                    summary->trainedModel().c_str());
    } else {
        const std::string_view text = demo::corpus();
        std::printf("  corpus: %lld lines, %.1f KB of plain sentences about workshop lathes (compiled into this "
                    "binary)\n",
                    (long long)std::count(text.begin(), text.end(), '\n'), double(text.size()) / 1000.0);
        std::printf("  spec:   %s (the same run by hand: lathe-cli train %s --db %s)\n", setup.specPath.c_str(),
                    setup.specPath.c_str(), setup.dbPath.c_str());
        summary = demo::train(setup);
    }

    phase(4, "after training: the same prompts");
    demo::printSamples(summary->trainedModel(), setup.threads, 100);

    phase(5, "results");
    demo::printResults(setup, *summary);
    std::printf("  demo wall time    %.1f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    std::printf("\nNext: lathe-cli generate %s --prompt \"The tool\"   (or lathe-cli --help)\n",
                summary->trainedModel().c_str());
    return 0;
}

} // namespace lathe::cli
