// The trainer as a job (see TrainRunner.h).
#include "jobs/TrainRunner.h"

#include "jobs/SimulatedTrainRunner.h"
#include "model/ModelConfig.h"
#include "train/loop/Trainer.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

namespace lathe::jobs {

namespace {

void metricIfSet(JobContext &ctx, int64_t step, const char *name, double value)
{
    if (std::isfinite(value))
        ctx.metric(step, name, value);
}

} // namespace

RunResult TrainRunner::run(JobContext &ctx)
{
    const std::string where = "job " + std::to_string(ctx.job().id) + " spec";
    nlohmann::json spec = nlohmann::json::parse(ctx.job().specJson, nullptr, false);
    if (!spec.is_object())
        fail(where + ": not a JSON object");
    if (spec.value("simulated", false)) {
        SimulatedTrainRunner simulated;
        return simulated.run(ctx);
    }
    std::string baseDir;
    if (spec.contains("spec_dir")) {
        if (!spec["spec_dir"].is_string())
            fail(where + ": spec_dir: must be a string");
        baseDir = spec["spec_dir"].get<std::string>();
    }
    std::string resumeDir;
    if (spec.contains("resume_from")) {
        if (!spec["resume_from"].is_string())
            fail(where + ": resume_from: must be a string");
        resumeDir = spec["resume_from"].get<std::string>();
    }
    spec.erase("spec_dir");
    spec.erase("price_profile");
    spec.erase("resume_from");
    if (!spec.contains("checkpoint") || !spec["checkpoint"].is_object())
        spec["checkpoint"] = nlohmann::json::object();
    if (!spec["checkpoint"].contains("dir") || spec["checkpoint"]["dir"] == "")
        spec["checkpoint"]["dir"] = ctx.workDir() + "/checkpoints";

    const RunSpec runSpec = RunSpec::fromJson(spec, where, baseDir);
    Trainer trainer(runSpec, where);
    std::string recordedPath;
    if (const auto from = ctx.resumeFrom()) {
        trainer.resume(from->path);
        recordedPath = from->path;
    } else if (!resumeDir.empty()) {
        trainer.resume(resumeDir);
    }
    if (m_observer.started)
        m_observer.started(trainer, trainer.step());
    // FLOPs per trained token: forward 2N, activation gradients 2N, weight gradients 2N
    // for a full fine-tune (LoRA skips the frozen weights' gradients).
    const double params = double(trainer.baseModel().config.parameterCount());
    const double flopsPerToken = (runSpec.mode == TrainMode::Full ? 6.0 : 4.0) * params;

    CheckpointCallbacks checkpoints;
    checkpoints.savedAtStop = [&](int64_t step, const std::string &path) {
        recordedPath = path;
        ctx.checkpointSaved(step, path); // the run stops anyway; a pause has nothing left to do
    };
    checkpoints.removed = [&](const std::vector<std::string> &paths) {
        for (const std::string &p : paths)
            ctx.checkpointRemoved(p);
    };
    const TrainResult result = trainer.run([&](const TrainMetrics &m) {
        if (m_observer.step)
            m_observer.step(m);
        if (m.trained) {
            metricIfSet(ctx, m.step, "loss", m.loss);
            metricIfSet(ctx, m.step, "lr", m.lr);
            metricIfSet(ctx, m.step, "grad_norm", m.gradNorm);
            metricIfSet(ctx, m.step, "tokens_per_s", m.tokensPerSecond);
            ctx.metric(m.step, "memory_bytes", double(m.memory.total()));
        }
        if (m.evaluated) {
            metricIfSet(ctx, m.step, "eval_loss", m.evalLoss);
            metricIfSet(ctx, m.step, "eval_perplexity", m.evalPerplexity);
        }
        ctx.totals(m.tokensSeen, 0, double(m.tokensSeen) * flopsPerToken, m.peakMemory.total());
        if (m.totalSteps > 0) {
            char msg[96];
            std::snprintf(msg, sizeof msg, "step %lld/%lld, loss %.4f", (long long)m.step, (long long)m.totalSteps,
                          m.loss);
            ctx.progress(double(m.step) / double(m.totalSteps), msg);
        }
        if (!m.checkpoint.empty()) {
            recordedPath = m.checkpoint;
            if (!ctx.checkpointSaved(m.step, m.checkpoint))
                return false;
        }
        if (!ctx.keepGoing())
            return false;
        // Without periodic checkpoints a pause stops now: the trainer saves one at stop.
        return !(ctx.pauseRequested() && runSpec.checkpoint.every == 0);
    }, checkpoints);
    if (!result.lastCheckpoint.empty() && result.lastCheckpoint != recordedPath)
        ctx.checkpointSaved(result.steps, result.lastCheckpoint);
    if (m_observer.finished)
        m_observer.finished(result);
    if (result.reason == TrainStop::Cancelled)
        return RunResult::Stopped;
    nlohmann::json final = {{"steps", result.steps}, {"stop_reason", trainStopName(result.reason)}};
    if (std::isfinite(result.lastLoss))
        final["final_loss"] = result.lastLoss;
    if (std::isfinite(result.lastEvalLoss)) {
        final["eval_loss"] = result.lastEvalLoss;
        final["eval_perplexity"] = std::exp(result.lastEvalLoss);
    }
    final["peak_memory_bytes"] = result.peakMemory.total();
    ctx.finalMetrics(final.dump());
    return RunResult::Completed;
}

} // namespace lathe::jobs
