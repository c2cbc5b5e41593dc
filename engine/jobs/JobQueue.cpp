// The dispatcher and the queue's API (see JobQueue.h); one attempt's work is in JobWorker.
#include "jobs/JobQueue.h"

#include "jobs/CostLedger.h"
#include "jobs/JobWorker.h"
#include "jobs/ProcessIdentity.h"
#include "store/StoreFile.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace lathe::jobs {

namespace {

constexpr std::chrono::seconds kRecoveryEvery{5};
constexpr std::chrono::seconds kBudgetCheckEvery{1};

store::JobResource defaultResource(store::JobKind kind)
{
    return kind == store::JobKind::PrepareDataset ? store::JobResource::Cpu : store::JobResource::Gpu;
}

} // namespace

JobQueue::JobQueue(JobQueueOptions options) : m_options(std::move(options))
{
    if (m_options.gpuSlots < 0 || m_options.cpuSlots < 0 || m_options.gpuSlots + m_options.cpuSlots == 0)
        fail("job queue: gpuSlots and cpuSlots must be >= 0 and not both 0");
    m_db = store::openStore(m_options.storePath);
    if (m_options.workRoot.empty()) {
        const std::filesystem::path parent = std::filesystem::path(m_options.storePath).parent_path();
        m_options.workRoot = (parent.empty() ? std::filesystem::path("runs") : parent / "runs").string();
    }
    if (m_options.seedExampleProfiles)
        CostLedger(*m_db).ensureExampleProfiles();
    m_metrics = std::make_unique<store::MetricWriter>(m_options.storePath, m_options.metrics);
}

JobQueue::~JobQueue()
{
    try {
        shutdown();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "lathe: job queue shutdown: %s\n", e.what());
    }
}

void JobQueue::registerRunner(store::JobKind kind, std::shared_ptr<JobRunner> runner)
{
    std::lock_guard lock(m_mutex);
    if (m_started)
        fail("job queue: registerRunner after start()");
    m_runners[kind] = std::move(runner);
}

void JobQueue::publish(const JobEvent &event) const
{
    if (m_options.listener)
        m_options.listener(event);
}

std::vector<int64_t> JobQueue::recoverInterrupted()
{
    const ProcessIdentity self = currentProcess();
    std::vector<int64_t> ids;
    std::vector<store::JobRecord> running;
    {
        std::lock_guard dbLock(m_dbMutex);
        running = store::JobRepository(*m_db).running();
    }
    for (const store::JobRecord &job : running) {
        const ProcessIdentity owner{job.ownerPid.value_or(0), job.ownerToken.value_or("")};
        // This process's own jobs are alive by definition (a queue that shuts down
        // records its jobs as interrupted itself); another process's if it still exists.
        if ((owner.pid == self.pid && owner.token == self.token) || isAlive(owner))
            continue;
        std::lock_guard dbLock(m_dbMutex);
        store::Transaction tx(*m_db);
        if (store::JobRepository(*m_db).markInterrupted(job)) {
            if (job.runId)
                store::RunRepository(*m_db).setStatus(*job.runId, "interrupted");
            ids.push_back(job.id);
        }
        tx.commit();
    }
    for (int64_t id : ids) {
        JobEvent e;
        e.jobId = id;
        e.state = store::JobState::Interrupted;
        e.message = "the process running it ended without finishing it";
        publish(e);
    }
    return ids;
}

void JobQueue::start()
{
    recoverInterrupted();
    std::lock_guard lock(m_mutex);
    if (m_started)
        return;
    m_started = true;
    m_lastRecovery = m_lastBudgetCheck = std::chrono::steady_clock::now();
    m_dispatcher = std::thread([this] { dispatchLoop(); });
}

void JobQueue::shutdown()
{
    {
        std::lock_guard lock(m_mutex);
        if (m_stopping && !m_dispatcher.joinable() && m_active.empty())
            return;
        m_stopping = true;
        for (auto &[id, active] : m_active)
            active->shutdown = true;
    }
    m_wake.notify_all();
    if (m_dispatcher.joinable())
        m_dispatcher.join();
    std::map<int64_t, std::shared_ptr<Active>> active;
    {
        std::lock_guard lock(m_mutex);
        active.swap(m_active);
    }
    for (auto &[id, a] : active)
        if (a->thread.joinable())
            a->thread.join();
    if (m_metrics)
        m_metrics->close();
}

int64_t JobQueue::submit(const JobSpec &spec)
{
    int64_t jobId = 0;
    {
        std::lock_guard dbLock(m_dbMutex);
        store::Transaction tx(*m_db);
        store::RunRecord run;
        run.name = spec.name;
        run.kind = store::jobKindName(spec.kind);
        run.status = "queued";
        run.specJson = spec.specJson;
        run.baseModelId = spec.baseModelId;
        run.datasetId = spec.datasetId;
        run.resumedFrom = spec.resumedFrom;
        store::RunRepository runs(*m_db);
        const int64_t runId = runs.create(run);
        store::JobRecord job;
        job.kind = spec.kind;
        job.priority = spec.priority;
        job.resource = spec.resource.value_or(defaultResource(spec.kind));
        job.specJson = spec.specJson;
        job.runId = runId;
        jobId = store::JobRepository(*m_db).insert(job);
        if (spec.name.empty()) {
            store::Statement st(*m_db, "UPDATE runs SET name = ? WHERE id = ?");
            st.bind(1, std::string(store::jobKindName(spec.kind)) + " #" + std::to_string(jobId)).bind(2, runId).exec();
        }
        tx.commit();
    }
    JobEvent e;
    e.jobId = jobId;
    e.state = store::JobState::Queued;
    publish(e);
    m_wake.notify_all();
    return jobId;
}

store::JobState JobQueue::cancel(int64_t id)
{
    store::JobState state;
    {
        std::lock_guard dbLock(m_dbMutex);
        state = store::JobRepository(*m_db).cancel(id);
        const auto job = store::JobRepository(*m_db).find(id);
        if (state == store::JobState::Cancelled && job && job->runId)
            store::RunRepository(*m_db).setStatus(*job->runId, "cancelled");
    }
    {
        std::lock_guard lock(m_mutex);
        if (auto it = m_active.find(id); it != m_active.end())
            it->second->cancel = true;
    }
    if (state == store::JobState::Cancelled) {
        JobEvent e;
        e.jobId = id;
        e.state = state;
        publish(e);
    }
    return state;
}

bool JobQueue::pause(int64_t id)
{
    bool running = false;
    {
        std::lock_guard dbLock(m_dbMutex);
        store::JobRepository jobs(*m_db);
        jobs.requestPause(id); // reaches the job in whichever process runs it
        const auto job = jobs.find(id);
        running = job && job->state == store::JobState::Running;
    }
    if (running) {
        std::lock_guard lock(m_mutex);
        if (auto it = m_active.find(id); it != m_active.end())
            it->second->requestPause("paused by the user");
    }
    return running;
}

bool JobQueue::resume(int64_t id)
{
    bool resumed;
    {
        std::lock_guard dbLock(m_dbMutex);
        resumed = store::JobRepository(*m_db).resume(id);
        const auto job = store::JobRepository(*m_db).find(id);
        if (resumed && job && job->runId)
            store::RunRepository(*m_db).setStatus(*job->runId, "queued");
    }
    if (resumed) {
        JobEvent e;
        e.jobId = id;
        e.state = store::JobState::Queued;
        publish(e);
        m_wake.notify_all();
    }
    return resumed;
}

void JobQueue::budgetsChanged()
{
    {
        std::lock_guard lock(m_mutex);
        m_budgetsChanged = true;
    }
    m_wake.notify_all();
}

std::optional<store::JobRecord> JobQueue::job(int64_t id)
{
    std::lock_guard dbLock(m_dbMutex);
    return store::JobRepository(*m_db).find(id);
}

store::JobState JobQueue::waitFor(int64_t id, const std::vector<store::JobState> &states,
                                  std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        const auto j = job(id);
        if (!j)
            fail("job " + std::to_string(id) + ": no such job");
        if (std::find(states.begin(), states.end(), j->state) != states.end() ||
            std::chrono::steady_clock::now() >= deadline)
            return j->state;
        std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(m_options.pollInterval,
                                                                         std::chrono::milliseconds(20)));
    }
}

void JobQueue::dispatchLoop()
{
    std::unique_lock lock(m_mutex);
    while (!m_stopping) {
        lock.unlock();
        try {
            reapFinished();
            dispatchOnce();
        } catch (const std::exception &e) {
            // A busy or failing store must not kill the dispatcher: try again next tick.
            std::fprintf(stderr, "lathe: job queue: %s\n", e.what());
        }
        lock.lock();
        m_wake.wait_for(lock, m_options.pollInterval);
    }
}

void JobQueue::reapFinished()
{
    std::vector<std::shared_ptr<Active>> done;
    {
        std::lock_guard lock(m_mutex);
        for (auto it = m_active.begin(); it != m_active.end();) {
            if (it->second->done.load()) {
                done.push_back(it->second);
                it = m_active.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto &a : done)
        a->thread.join();
}

void JobQueue::resumeBudgetPaused()
{
    std::vector<int64_t> resumed;
    {
        std::lock_guard dbLock(m_dbMutex);
        CostLedger ledger(*m_db);
        for (const store::JobRecord &job : store::JobRepository(*m_db).pausedWithReason("budget")) {
            const auto checks = ledger.check(job.runId.value_or(0), 0, 0.0, 0.0, store::nowSeconds());
            if (cost::worst(checks).level != cost::BudgetLevel::Exceeded && store::JobRepository(*m_db).resume(job.id))
                resumed.push_back(job.id);
        }
    }
    for (int64_t id : resumed) {
        JobEvent e;
        e.jobId = id;
        e.state = store::JobState::Queued;
        e.message = "resumed: the budget allows it again";
        publish(e);
    }
}

void JobQueue::dispatchOnce()
{
    const auto now = std::chrono::steady_clock::now();
    if (now - m_lastRecovery >= kRecoveryEvery) {
        m_lastRecovery = now;
        recoverInterrupted();
    }
    bool budgets;
    {
        std::lock_guard lock(m_mutex);
        budgets = m_budgetsChanged || now - m_lastBudgetCheck >= kBudgetCheckEvery;
        m_budgetsChanged = false;
    }
    if (budgets) {
        m_lastBudgetCheck = now;
        resumeBudgetPaused();
    }

    std::vector<store::JobRecord> queued;
    {
        std::lock_guard dbLock(m_dbMutex);
        queued = store::JobRepository(*m_db).queued();
    }
    for (const store::JobRecord &job : queued) {
        {
            std::lock_guard lock(m_mutex);
            if (m_stopping || !m_runners.count(job.kind))
                continue;
            if (!m_options.onlyJobs.empty() &&
                std::find(m_options.onlyJobs.begin(), m_options.onlyJobs.end(), job.id) == m_options.onlyJobs.end())
                continue;
            const int slots = job.resource == store::JobResource::Gpu ? m_options.gpuSlots : m_options.cpuSlots;
            const auto busy = std::count_if(m_active.begin(), m_active.end(),
                                            [&](const auto &kv) { return kv.second->resource == job.resource; });
            if (busy >= slots)
                continue;
        }
        startJob(job);
    }
}

void JobQueue::startJob(const store::JobRecord &queuedJob)
{
    const ProcessIdentity self = currentProcess();
    std::optional<store::JobRecord> job;
    std::string budgetReason;
    {
        std::lock_guard dbLock(m_dbMutex);
        store::JobRepository jobs(*m_db);
        if (!jobs.claim(queuedJob.id, self.pid, self.token))
            return; // taken by another queue, or cancelled meanwhile
        job = jobs.find(queuedJob.id);
        // A limit already reached: pause before doing any work.
        const cost::BudgetCheck worst =
            cost::worst(CostLedger(*m_db).check(job->runId.value_or(0), 0, 0.0, 0.0, store::nowSeconds()));
        if (worst.level == cost::BudgetLevel::Exceeded) {
            jobs.finishAttempt(job->id, store::JobState::Paused, std::nullopt, worst.message);
            if (job->runId)
                store::RunRepository(*m_db).setStatus(*job->runId, "paused");
            budgetReason = worst.message;
        }
    }
    if (!budgetReason.empty()) {
        JobEvent e;
        e.jobId = job->id;
        e.state = store::JobState::Paused;
        e.message = budgetReason;
        publish(e);
        return;
    }
    auto active = std::make_shared<Active>();
    active->jobId = job->id;
    active->resource = job->resource;
    WorkerParams params;
    params.options = &m_options;
    params.metrics = m_metrics.get();
    params.active = active;
    params.job = *job;
    params.publish = [this](const JobEvent &e) { publish(e); };
    params.finished = [this] { m_wake.notify_all(); };
    std::lock_guard lock(m_mutex);
    params.runner = m_runners.at(job->kind);
    m_active[job->id] = active;
    active->thread = std::thread([params] { runJobAttempt(params); });
}

} // namespace lathe::jobs
