// Training progress lines and the Ctrl-C guard (see CliTrain.h).
#include "CliTrain.h"

#include "CliCommon.h"

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
    std::signal(SIGINT, SIG_DFL); // async-signal-safe; the next Ctrl-C kills
}

std::string memoryLine(const TrainMemoryReport &m)
{
    return humanBytes(double(m.total())) + " (weights " + humanBytes(double(m.weights)) + ", adapter " +
           humanBytes(double(m.adapter)) + ", optimizer " + humanBytes(double(m.optimizer)) + ", activations " +
           humanBytes(double(m.activations)) + ", workspace " + humanBytes(double(m.workspace)) + ")";
}

} // namespace

InterruptGuard::InterruptGuard()
{
    g_interrupted = false;
    std::signal(SIGINT, onInterrupt);
}

InterruptGuard::~InterruptGuard()
{
    std::signal(SIGINT, SIG_DFL);
}

bool InterruptGuard::interrupted()
{
    return g_interrupted.load();
}

void printTrainHeader(const Trainer &trainer, int64_t resumedAt)
{
    const RunSpec &spec = trainer.spec();
    const ModelConfig &config = trainer.baseModel().config;
    if (resumedAt > 0)
        std::printf("resumed at step %lld of %lld\n", (long long)resumedAt, (long long)trainer.totalSteps());
    std::printf("model:  %s (%s, %s, %d layers, dim %d)\n", spec.model.c_str(), config.arch.c_str(),
                spec.mode == TrainMode::Lora ? "LoRA" : "full fine-tuning", config.nLayers, config.dim);
    if (spec.mode == TrainMode::Lora)
        std::printf("adapter: r %d, alpha %g, dropout %g%s, base %s, %zu target modules\n", spec.adapter.rank,
                    spec.adapter.alpha, spec.adapter.dropout, spec.adapter.rsLora ? ", rsLoRA" : "",
                    baseFormatName(spec.baseFormat), spec.adapter.targets.size());
    std::printf("steps:  %lld (%s, warmup %lld, peak lr %g), micro-batch %lld x %lld tokens, grad accum %lld\n",
                (long long)trainer.totalSteps(), scheduleKindName(spec.schedule), (long long)spec.warmupSteps,
                spec.optimizer.lr, (long long)spec.batch.microBatch, (long long)spec.batch.seqLen,
                (long long)spec.batch.gradAccum);
    if (!spec.checkpoint.dir.empty())
        std::printf("checkpoints: %s (every %lld steps%s, keeping %s)\n", spec.checkpoint.dir.c_str(),
                    (long long)spec.checkpoint.every, spec.checkpoint.atStop ? " and at stop" : "",
                    spec.checkpoint.keep == 0 ? "all" : std::to_string(spec.checkpoint.keep).c_str());
    std::printf("memory: %s before the first step\n", memoryLine(trainer.memory()).c_str());
    std::fflush(stdout);
}

void printTrainStep(const TrainMetrics &m, int64_t logEvery)
{
    if (m.trained && !m.evaluated && m.checkpoint.empty() && m.step % logEvery != 0 && m.step != m.totalSteps)
        return;
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

void printTrainResult(const TrainResult &r)
{
    std::printf("stopped: %s after %lld steps (%.1f s)", trainStopName(r.reason), (long long)r.steps, r.seconds);
    if (std::isfinite(r.lastLoss))
        std::printf(", last loss %.4f", r.lastLoss);
    if (std::isfinite(r.lastEvalLoss))
        std::printf(", eval loss %.4f (ppl %.3f)", r.lastEvalLoss, std::exp(r.lastEvalLoss));
    std::printf("\npeak memory: %s\n", memoryLine(r.peakMemory).c_str());
    if (!r.lastCheckpoint.empty())
        std::printf("checkpoint: %s\n", r.lastCheckpoint.c_str());
    std::fflush(stdout);
}

} // namespace lathe::cli
