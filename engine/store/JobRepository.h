// JobRepository: the persistent job queue's rows. A job is inserted (queued) before
// anything runs, so a job in the store is never lost. State changes are single UPDATEs
// guarded by the expected current state, which makes them safe between processes: two
// queues on one store never both claim a job, and a cancel never revives a finished one.
// Kinds and states are stored by name; the names never change once released.
#pragma once

#include "store/Sqlite.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lathe::store {

enum class JobKind { Train, Evaluate, GenerateBatch, Export, PrepareDataset };
enum class JobState { Queued, Running, Paused, Completed, Failed, Cancelled, Interrupted };
enum class JobResource { Gpu, Cpu };

const char *jobKindName(JobKind kind);       // "train", "evaluate", "generate_batch", "export", "prepare_dataset"
const char *jobStateName(JobState state);    // "queued", "running", ...
const char *jobResourceName(JobResource r);  // "gpu", "cpu"
// Parse a stored name; Error naming the field and the text when unknown.
JobKind parseJobKind(const std::string &name);
JobState parseJobState(const std::string &name);
JobResource parseJobResource(const std::string &name);
bool isTerminal(JobState state); // completed, failed, cancelled

struct JobRecord
{
    int64_t id = 0;
    JobKind kind = JobKind::Train;
    JobState state = JobState::Queued;
    int priority = 0; // higher runs first; ties run in submission order
    JobResource resource = JobResource::Gpu;
    std::string specJson = "{}";
    std::optional<int64_t> runId;
    double progress = 0; // 0..1
    std::string message;
    std::optional<std::string> error, pauseReason;
    std::optional<std::string> request; // "cancel" or "pause", asked while running
    std::optional<int64_t> ownerPid;
    std::optional<std::string> ownerToken;
    int attempts = 0;
    double createdAt = 0;
    std::optional<double> startedAt, finishedAt;
    double updatedAt = 0;
};

class JobRepository
{
public:
    explicit JobRepository(Connection &connection) : m_db(connection) {}

    // Inserts job as queued and returns its id.
    int64_t insert(const JobRecord &job);
    std::optional<JobRecord> find(int64_t id);
    // Newest first; an empty filter lists every state.
    std::vector<JobRecord> list(const std::vector<JobState> &states = {}, int limit = 200);
    // Queued jobs in the order they should run: highest priority first, then oldest.
    std::vector<JobRecord> queued();

    // queued -> running, owned by (pid, token); attempts + 1. False when the job was not
    // queued any more (another queue took it, or it was cancelled).
    bool claim(int64_t id, int64_t pid, const std::string &token);
    // running -> state (completed, failed, cancelled, paused, interrupted). pauseReason
    // only with paused. False if the job was not running.
    bool finishAttempt(int64_t id, JobState state, const std::optional<std::string> &error = {},
                       const std::optional<std::string> &pauseReason = {});
    void setProgress(int64_t id, double progress, const std::string &message);
    void setRunId(int64_t id, int64_t runId);

    // Cancels: a job not yet running (queued, paused, interrupted) at once; a running
    // one by leaving a request its queue picks up. Returns the state after the call.
    JobState cancel(int64_t id);
    // Asks a running job to pause at its next checkpoint; false if it is not running.
    bool requestPause(int64_t id);
    // paused or interrupted -> queued (clears the pause reason). A cancelled train job
    // resumes too: it stopped at a step boundary with a checkpoint (or before its first
    // step), so continuing it loses nothing; other kinds have no state to continue from
    // and stay cancelled. False otherwise.
    bool resume(int64_t id);
    std::optional<std::string> pendingRequest(int64_t id);

    // Running jobs with their owners (for the start-up check of dead processes).
    std::vector<JobRecord> running();
    // running -> interrupted when still owned as in `seen` (a row from running()).
    // False if it changed in the meantime.
    bool markInterrupted(const JobRecord &seen);
    // Paused jobs whose pause reason starts with prefix (e.g. "budget").
    std::vector<JobRecord> pausedWithReason(const std::string &prefix);

private:
    Connection &m_db;
};

} // namespace lathe::store
