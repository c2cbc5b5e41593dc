// The training loop (see Trainer.h). Resume and checkpoint plumbing is in TrainerResume.cpp;
// the constructor that loads its inputs from disk is in RunInputs.cpp.
#include "train/loop/Trainer.h"

#include "core/Error.h"
#include "core/ThreadPool.h"
#include "train/loop/RunInputs.h"
#include "train/loop/TrainerImpl.h"
#include "train/optim/GradClip.h"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace lathe {

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

uint64_t splitmix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

TrainMemoryReport maxOf(const TrainMemoryReport &a, const TrainMemoryReport &b)
{
    return {std::max(a.weights, b.weights), std::max(a.adapter, b.adapter), std::max(a.optimizer, b.optimizer),
            std::max(a.activations, b.activations), std::max(a.workspace, b.workspace)};
}

} // namespace

void checkVocabulary(const PreparedSplits &data, int vocabSize, const std::string &where)
{
    for (const TokenizedDataset *d : {&data.train, &data.validation})
        for (int32_t id : d->tokens)
            if (id < 0 || id >= vocabSize)
                fail(where + ": data: token id " + std::to_string(id) + " is outside the model's vocabulary of " +
                     std::to_string(vocabSize) + " (is the tokenizer the model's own?)");
}

const char *trainStopName(TrainStop r)
{
    switch (r) {
    case TrainStop::Completed: return "completed";
    case TrainStop::MaxSteps: return "budget.max_steps";
    case TrainStop::MaxTokens: return "budget.max_tokens";
    case TrainStop::MaxSeconds: return "budget.max_seconds";
    case TrainStop::Cancelled: return "cancelled";
    }
    return "?";
}

uint64_t Trainer::Impl::dropoutSeed(int64_t step, int64_t micro) const
{
    return splitmix(splitmix(spec.seed ^ 0x6c6f7261ull) ^ splitmix(uint64_t(step) * 0x100000001b3ull + uint64_t(micro)));
}

void Trainer::Impl::build()
{
    const ModelConfig &config = base->config;
    spec.validateAgainstModel(config, where);
    checkVocabulary(data, config.vocabSize, where);
    if (data.train.records() == 0)
        fail(where + ": data: the training split is empty");
    pool = std::make_unique<ThreadPool>(spec.threads);
    model = withContext(where, [&] {
        return std::make_unique<TrainModel<float>>(config, base->weights, spec.modelOptions(), pool.get());
    });
    BatchOptions bo;
    bo.rows = spec.batch.microBatch;
    bo.seqLen = spec.batch.seqLen;
    bo.packing = spec.batch.packing;
    bo.shuffle = spec.batch.shuffle;
    bo.splitLong = spec.batch.splitLong;
    bo.seed = spec.seed;
    bo.padId = padId;
    train = withContext(where + ": data (training split)", [&] { return std::make_unique<BatchBuilder>(data.train, bo); });
    if (data.validation.records() > 0) {
        BatchOptions vo = bo;
        vo.shuffle = false;
        validation = withContext(where + ": data (validation split)",
                                 [&] { return std::make_unique<BatchBuilder>(data.validation, vo); });
    }
    schedule.kind = spec.schedule;
    schedule.peakLr = spec.optimizer.lr;
    schedule.warmupSteps = spec.warmupSteps;
    schedule.totalSteps = spec.steps;
    if (schedule.totalSteps == 0) {
        const double micro = spec.epochs * double(train->batchesPerEpoch());
        schedule.totalSteps = std::max<int64_t>(1, int64_t(std::ceil(micro / double(spec.batch.gradAccum) - 1e-9)));
    }
    optimizer = AdamW(spec.optimizer);
    optimizer.attach(model->params());
    scaler = LossScaler(spec.lossScale);
    identity = ModelIdentity::of(*base);
}

TrainMemoryReport Trainer::Impl::memoryNow() const
{
    const TrainMemory m = model->memory();
    return {m.weights, m.trainable, optimizer.stateBytes(), m.activations, m.workspace};
}

TrainMetrics Trainer::Impl::runStep()
{
    const auto t0 = Clock::now();
    TrainMetrics m;
    m.lr = schedule.lr(step);
    std::vector<BuiltBatch> micro;
    micro.reserve(size_t(spec.batch.gradAccum));
    for (int64_t k = 0; k < spec.batch.gradAccum; ++k) {
        micro.push_back(train->next());
        m.tokens += micro.back().tokens;
        m.targets += micro.back().batch.targetCount();
    }
    if (m.targets == 0)
        fail("step " + std::to_string(step + 1) + ": no token carries loss");
    model->zeroGrads();
    const double scale = scaler.scale();
    double nll = 0.0;
    for (size_t k = 0; k < micro.size(); ++k)
        nll += model->forwardBackward(micro[k].batch, scale / double(m.targets), dropoutSeed(step, int64_t(k)));
    m.loss = nll / double(m.targets);
    std::vector<TrainParam<float>> &params = model->params();
    const bool finite = std::isfinite(m.loss) && gradsFinite(params);
    if (!finite && !spec.lossScale.enabled)
        fail("step " + std::to_string(step + 1) + ": the loss or its gradients are not finite (loss " +
             std::to_string(m.loss) + "); training diverged — lower optimizer.lr or set optimizer.grad_clip");
    m.lossScale = scale;
    if (scaler.update(!finite)) {
        scaleGrads(params, 1.0 / scale);
        m.gradNorm = globalGradNorm(params);
        clipGradNorm(params, m.gradNorm, spec.gradClip);
        optimizer.step(params, m.lr, pool.get());
    } else {
        m.skipped = true;
    }
    ++step;
    tokensSeen += m.tokens;
    m.step = step;
    m.totalSteps = schedule.totalSteps;
    m.tokensSeen = tokensSeen;
    const double seconds = secondsSince(t0);
    m.tokensPerSecond = seconds > 0.0 ? double(m.tokens) / seconds : 0.0;
    m.epoch = train->epochProgress();
    m.memory = memoryNow();
    peak = maxOf(peak, m.memory);
    m.peakMemory = peak;
    return m;
}

EvalResult Trainer::Impl::evaluate()
{
    if (!validation)
        fail("the run has no validation split (set data.validation_ratio or data.validation_count)");
    validation->setCursor({});
    EvalResult r;
    double nll = 0.0;
    BuiltBatch b;
    while ((spec.eval.maxBatches == 0 || r.batches < spec.eval.maxBatches) && validation->nextInEpoch(b)) {
        nll += model->evaluate(b.batch);
        r.targets += b.batch.targetCount();
        ++r.batches;
    }
    if (r.targets > 0) {
        r.loss = nll / double(r.targets);
        r.perplexity = std::exp(r.loss);
    }
    return r;
}

void Trainer::Impl::record(const TrainMetrics &m)
{
    nlohmann::json h = {{"step", m.step}, {"tokens_seen", m.tokensSeen}};
    auto put = [&](const char *k, double v) {
        if (std::isfinite(v))
            h[k] = v;
    };
    if (m.trained) {
        put("loss", m.loss);
        put("lr", m.lr);
        put("grad_norm", m.gradNorm);
        put("tokens_per_second", m.tokensPerSecond);
        h["skipped"] = m.skipped;
    }
    if (m.evaluated) {
        put("eval_loss", m.evalLoss);
        put("eval_ppl", m.evalPerplexity);
    }
    history.push_back(std::move(h));
}

std::optional<TrainStop> Trainer::Impl::stopReason(Clock::time_point started) const
{
    if (step >= schedule.totalSteps)
        return TrainStop::Completed;
    if (spec.budget.maxSteps > 0 && step >= spec.budget.maxSteps)
        return TrainStop::MaxSteps;
    if (spec.budget.maxTokens > 0 && tokensSeen >= spec.budget.maxTokens)
        return TrainStop::MaxTokens;
    if (spec.budget.maxSeconds > 0 && secondsSince(started) >= spec.budget.maxSeconds)
        return TrainStop::MaxSeconds;
    return std::nullopt;
}

TrainResult Trainer::Impl::run(const TrainCallback &callback, const CheckpointCallbacks &checkpoints)
{
    const auto started = Clock::now();
    const double elapsedAtStart = elapsedBefore;
    auto elapsed = [&] { return elapsedAtStart + secondsSince(started); };
    TrainResult r;
    bool cancelled = false;
    if (step == 0 && validation && spec.eval.every > 0 && !baseEvaluated) {
        const EvalResult e = evaluate();
        baseEvaluated = true;
        TrainMetrics m;
        m.trained = false;
        m.totalSteps = schedule.totalSteps;
        m.evaluated = true;
        m.evalLoss = e.loss;
        m.evalPerplexity = e.perplexity;
        m.evalTargets = e.targets;
        m.memory = memoryNow();
        m.peakMemory = peak = maxOf(peak, m.memory);
        r.lastEvalLoss = e.loss;
        record(m);
        cancelled = callback && !callback(m);
    }
    while (!cancelled) {
        if (const auto why = stopReason(started)) {
            r.reason = *why;
            break;
        }
        TrainMetrics m = runStep();
        m.elapsedSeconds = elapsed();
        const bool last = step >= schedule.totalSteps || (spec.budget.maxSteps > 0 && step >= spec.budget.maxSteps);
        if (validation && ((spec.eval.every > 0 && step % spec.eval.every == 0) || last)) {
            const EvalResult e = evaluate();
            m.evaluated = true;
            m.evalLoss = e.loss;
            m.evalPerplexity = e.perplexity;
            m.evalTargets = e.targets;
            r.lastEvalLoss = e.loss;
        }
        record(m);
        if (!spec.checkpoint.dir.empty() && spec.checkpoint.every > 0 && step % spec.checkpoint.every == 0) {
            elapsedBefore = elapsed();
            m.checkpoint = r.lastCheckpoint = saveCheckpoint(spec.checkpoint.dir);
        }
        r.lastLoss = m.loss;
        cancelled = callback && !callback(m);
        if (!m.checkpoint.empty())
            pruneCheckpoints(checkpoints);
    }
    if (cancelled)
        r.reason = TrainStop::Cancelled;
    elapsedBefore = elapsed();
    if (!spec.checkpoint.dir.empty() && spec.checkpoint.atStop && lastSavedStep != step) {
        r.lastCheckpoint = saveCheckpoint(spec.checkpoint.dir);
        if (checkpoints.savedAtStop)
            checkpoints.savedAtStop(step, r.lastCheckpoint);
        pruneCheckpoints(checkpoints);
    }
    r.steps = step;
    r.seconds = secondsSince(started);
    r.peakMemory = peak;
    return r;
}

Trainer::Trainer(const RunSpec &spec, std::shared_ptr<const LoadedModel> model, PreparedSplits data, int32_t padId,
                 const std::string &where)
    : m_impl(std::make_unique<Impl>())
{
    if (!model)
        fail(where + ": no model");
    m_impl->spec = spec;
    m_impl->where = where;
    m_impl->base = std::move(model);
    m_impl->data = std::move(data);
    m_impl->padId = padId;
    m_impl->build();
}

Trainer::~Trainer() = default;

TrainResult Trainer::run(const TrainCallback &callback, const CheckpointCallbacks &checkpoints)
{
    return m_impl->run(callback, checkpoints);
}
EvalResult Trainer::evaluate() { return m_impl->evaluate(); }
bool Trainer::hasValidation() const { return m_impl->validation != nullptr; }
void Trainer::resume(const std::string &dir) { m_impl->resume(dir); }
std::string Trainer::saveCheckpoint(const std::string &dir)
{
    return m_impl->saveCheckpoint(dir.empty() ? m_impl->spec.checkpoint.dir : dir);
}
int64_t Trainer::step() const { return m_impl->step; }
int64_t Trainer::totalSteps() const { return m_impl->schedule.totalSteps; }
const RunSpec &Trainer::spec() const { return m_impl->spec; }
const LoadedModel &Trainer::baseModel() const { return *m_impl->base; }
TrainModel<float> &Trainer::model() { return *m_impl->model; }
TrainMemoryReport Trainer::memory() const { return m_impl->memoryNow(); }

} // namespace lathe
