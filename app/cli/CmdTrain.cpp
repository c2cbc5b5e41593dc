// lathe-cli train: runs a training spec (engine/train/spec/RunSpec.h) on the CPU and
// prints one progress line per step; Ctrl-C stops after the current step and saves a
// checkpoint when the spec asks for one at stop. --resume continues from a checkpoint.
#include "CliCommon.h"
#include "Commands.h"
#include "core/Error.h"
#include "train/loop/Trainer.h"

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>

namespace lathe::cli {

namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int)
{
    g_interrupted = true;
}

// Restores the default SIGINT handler on scope exit (a second Ctrl-C then kills).
struct InterruptGuard
{
    InterruptGuard()
    {
        g_interrupted = false;
        std::signal(SIGINT, onInterrupt);
    }
    ~InterruptGuard() { std::signal(SIGINT, SIG_DFL); }
};

std::string memoryLine(const TrainMemoryReport &m)
{
    return humanBytes(double(m.total())) + " (weights " + humanBytes(double(m.weights)) + ", adapter " +
           humanBytes(double(m.adapter)) + ", optimizer " + humanBytes(double(m.optimizer)) + ", activations " +
           humanBytes(double(m.activations)) + ", workspace " + humanBytes(double(m.workspace)) + ")";
}

void printStep(const TrainMetrics &m)
{
    if (!m.trained) {
        std::printf("step %6lld/%lld  base model: eval loss %.4f  ppl %.3f  (%lld targets)\n", (long long)m.step,
                    (long long)m.totalSteps, m.evalLoss, m.evalPerplexity, (long long)m.evalTargets);
        std::fflush(stdout);
        return;
    }
    std::printf("step %6lld/%lld  loss %.4f  lr %.3e  grad %s  %.0f tok/s  seen %s  epoch %.2f  mem %s",
                (long long)m.step, (long long)m.totalSteps, m.loss, m.lr,
                std::isfinite(m.gradNorm) ? std::to_string(m.gradNorm).substr(0, 7).c_str() : "-", m.tokensPerSecond,
                humanCount(double(m.tokensSeen)).c_str(), m.epoch, humanBytes(double(m.memory.total())).c_str());
    if (m.skipped)
        std::printf("  [overflow: step skipped, loss scale -> %g]", m.lossScale * 0.5);
    if (m.evaluated)
        std::printf("  [eval loss %.4f ppl %.3f]", m.evalLoss, m.evalPerplexity);
    if (!m.checkpoint.empty())
        std::printf("  [saved %s]", m.checkpoint.c_str());
    std::printf("\n");
    std::fflush(stdout);
}

} // namespace

int runTrain(const Args &argv)
{
    ArgParser args("train", "SPEC [--resume DIR] [--threads N]",
                   "Trains a model as the JSON run spec SPEC describes (model, LoRA or full fine-tuning,\n"
                   "data, optimiser, schedule, batching, precision, evaluation, checkpoints, budget).\n"
                   "Prints one line per step: loss, learning rate, gradient norm, throughput, tokens seen\n"
                   "and memory. Ctrl-C stops after the current step (with a checkpoint when the spec's\n"
                   "checkpoint.at_stop is set).");
    args.positional("SPEC", "run spec (JSON)")
        .option("resume", "DIR", "continue from a checkpoint folder or a run folder (its newest checkpoint)")
        .option("threads", "N", "CPU threads, overriding the spec's (0: all)")
        .option("log-every", "N", "print every Nth step (evaluations and saves always)", "1");
    if (!args.parse(argv))
        return 0;
    const int64_t logEvery = args.intValue("log-every", 1, int64_t(1) << 40);
    const std::string specPath = args.positionalValue(0);
    RunSpec spec = RunSpec::fromFile(specPath);
    if (args.has("threads"))
        spec.threads = int(args.intValue("threads", 0, 4096));

    Trainer trainer(spec, specPath);
    if (args.has("resume")) {
        trainer.resume(args.value("resume"));
        std::printf("resumed at step %lld of %lld\n", (long long)trainer.step(), (long long)trainer.totalSteps());
    }
    const TrainMemoryReport mem = trainer.memory();
    std::printf("model:  %s (%s, %s, %d layers, dim %d)\n", spec.model.c_str(), trainer.baseModel().config.arch.c_str(),
                spec.mode == TrainMode::Lora ? "LoRA" : "full fine-tuning", trainer.baseModel().config.nLayers,
                trainer.baseModel().config.dim);
    if (spec.mode == TrainMode::Lora)
        std::printf("adapter: r %d, alpha %g, dropout %g%s, base %s, %zu target modules\n", spec.adapter.rank,
                    spec.adapter.alpha, spec.adapter.dropout, spec.adapter.rsLora ? ", rsLoRA" : "",
                    baseFormatName(spec.baseFormat), spec.adapter.targets.size());
    std::printf("steps:  %lld (%s, warmup %lld, peak lr %g), micro-batch %lld x %lld tokens, grad accum %lld\n",
                (long long)trainer.totalSteps(), scheduleKindName(spec.schedule), (long long)spec.warmupSteps,
                spec.optimizer.lr, (long long)spec.batch.microBatch, (long long)spec.batch.seqLen,
                (long long)spec.batch.gradAccum);
    std::printf("memory: %s before the first step\n", memoryLine(mem).c_str());
    std::fflush(stdout);

    InterruptGuard guard;
    const TrainResult r = trainer.run([&](const TrainMetrics &m) {
        if (!m.trained || m.evaluated || !m.checkpoint.empty() || m.step % logEvery == 0 || m.step == m.totalSteps)
            printStep(m);
        return !g_interrupted.load();
    });
    std::printf("stopped: %s after %lld steps (%.1f s)", trainStopName(r.reason), (long long)r.steps, r.seconds);
    if (std::isfinite(r.lastLoss))
        std::printf(", last loss %.4f", r.lastLoss);
    if (std::isfinite(r.lastEvalLoss))
        std::printf(", eval loss %.4f (ppl %.3f)", r.lastEvalLoss, std::exp(r.lastEvalLoss));
    std::printf("\npeak memory: %s\n", memoryLine(r.peakMemory).c_str());
    if (!r.lastCheckpoint.empty())
        std::printf("checkpoint: %s\n", r.lastCheckpoint.c_str());
    return r.reason == TrainStop::Cancelled ? 130 : 0;
}

} // namespace lathe::cli
