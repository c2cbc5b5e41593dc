// Saving the trainer's state into a checkpoint and restoring it (see Trainer.h, Checkpoint.h).
#include "core/Error.h"
#include "train/loop/TrainerImpl.h"
#include "train/checkpoint/Retention.h"
#include "train/spec/JsonFields.h"

#include <cmath>

namespace lathe {

std::string Trainer::Impl::saveCheckpoint(const std::string &dir)
{
    if (dir.empty())
        fail(where + ": checkpoint.dir: is not set; there is nowhere to save");
    CheckpointWrite w;
    w.base = base.get();
    w.mode = spec.mode;
    w.lora = spec.adapter;
    w.baseModelName = spec.baseModelName.empty() ? spec.model : spec.baseModelName;
    w.params = &model->params();
    w.optimizer = &optimizer;
    TrainerState &s = w.state;
    s.step = step;
    s.tokensSeen = tokensSeen;
    s.cursor = train->cursor();
    s.dataHash = data.train.hash;
    s.optimizerSteps = optimizer.steps();
    s.lossScale = scaler.scale();
    s.goodSteps = scaler.goodSteps();
    s.skippedSteps = scaler.skippedSteps();
    s.schedule = schedule;
    s.seed = spec.seed;
    s.elapsedSeconds = elapsedBefore;
    s.model = identity;
    s.spec = spec.toJson();
    s.history = history;
    const std::string path = ::lathe::saveCheckpoint(dir, w);
    lastSavedStep = step;
    return path;
}

void Trainer::Impl::pruneCheckpoints(const CheckpointCallbacks &checkpoints)
{
    if (spec.checkpoint.dir.empty() || spec.checkpoint.keep <= 0)
        return;
    // The best checkpoint is the one whose own step was evaluated with the lowest loss;
    // checkpoints saved at steps without an evaluation do not compete.
    std::optional<int64_t> best;
    double bestLoss = 0.0;
    for (const CheckpointFolder &f : listCheckpoints(spec.checkpoint.dir)) {
        for (const nlohmann::json &h : history) {
            if (h.value("step", int64_t(-1)) != f.step || !h.contains("eval_loss") || !h["eval_loss"].is_number())
                continue;
            const double loss = h["eval_loss"].get<double>();
            if (std::isfinite(loss) && (!best || loss < bestLoss)) {
                best = f.step;
                bestLoss = loss;
            }
        }
    }
    const std::vector<std::string> removed = ::lathe::pruneCheckpoints(spec.checkpoint.dir, spec.checkpoint.keep, step, best);
    if (!removed.empty() && checkpoints.removed)
        checkpoints.removed(removed);
}

void Trainer::Impl::resume(const std::string &dir)
{
    LoadedCheckpoint c = loadCheckpoint(dir, base->config, identity);
    withContext("resuming from " + c.dir, [&] {
        const nlohmann::json mine = spec.mathJson(), theirs = RunSpec::mathSubset(c.state.spec);
        if (const std::string d = firstJsonDifference(theirs, mine); !d.empty())
            fail(where + ": " + d + ": differs from the checkpoint's spec; a resumed run must train the same way");
        if (!c.state.dataHash.empty() && !data.train.hash.empty() && c.state.dataHash != data.train.hash)
            fail(where + ": data: the prepared training data differs from the checkpoint's (hash " + data.train.hash +
                 ", checkpoint " + c.state.dataHash + ")");
        if (c.mode != spec.mode)
            fail(where + ": mode: the checkpoint was trained in the other mode");
        if (spec.mode == TrainMode::Lora &&
            (c.lora.rank != spec.adapter.rank || c.lora.alpha != spec.adapter.alpha ||
             c.lora.targets != spec.adapter.targets || c.lora.rsLora != spec.adapter.rsLora))
            fail("adapter_config.json: r, lora_alpha, target_modules or use_rslora differ from the spec's adapter "
                 "(edited after the checkpoint was written?)");
        std::vector<TrainParam<float>> &params = model->params();
        std::vector<std::vector<float>> m(params.size()), v(params.size());
        if (c.params.size() != params.size())
            fail("it holds " + std::to_string(c.params.size()) + " trained tensors, the model has " +
                 std::to_string(params.size()));
        for (size_t i = 0; i < params.size(); ++i) {
            TrainParam<float> &p = params[i];
            auto pv = c.params.find(p.name);
            auto pm = c.adamM.find(p.name);
            auto pw = c.adamV.find(p.name);
            if (pv == c.params.end() || pm == c.adamM.end() || pw == c.adamV.end())
                fail("parameter " + p.name + " or its optimiser state is missing");
            if (int64_t(pv->second.size()) != p.size())
                fail("parameter " + p.name + " has " + std::to_string(pv->second.size()) + " values, the model " +
                     std::to_string(p.size()));
            p.value = pv->second;
            m[i] = std::move(pm->second);
            v[i] = std::move(pw->second);
        }
        optimizer.restore(c.state.optimizerSteps, std::move(m), std::move(v), params);
        scaler.restore(c.state.lossScale, c.state.goodSteps, c.state.skippedSteps);
        schedule = c.state.schedule;
        train->setCursor(c.state.cursor);
        step = c.state.step;
        tokensSeen = c.state.tokensSeen;
        elapsedBefore = c.state.elapsedSeconds;
        history = c.state.history;
        baseEvaluated = true;
        lastSavedStep = step;
    });
}

} // namespace lathe
