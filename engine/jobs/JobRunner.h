// JobRunner: the pluggable part of the job queue — one runner per job kind (train,
// evaluate, generate batch, export, prepare dataset). The queue calls run() on a worker
// thread with a JobContext, through which the runner reports and asks whether to go on:
//
//   keepGoing()        false once the job is cancelled or the queue shuts down: return
//                      promptly (no checkpoint needed);
//   checkpointSaved()  after writing a checkpoint (temp file + rename): the queue commits
//                      the metrics up to that step, records the checkpoint, and returns
//                      false when the job is to pause now (asked by the user, or a budget
//                      hard limit would be exceeded): return, the job resumes from there;
//   checkpointRemoved() after deleting an older checkpoint (retention): its record goes;
//   resumeFrom()       the checkpoint to continue from when the job is resumed.
//
// run() returns Completed when the work is done and Stopped when it returned because the
// context said so; any Error it throws fails the job with that message.
#pragma once

#include "store/JobRepository.h"
#include "store/RunRepository.h"

#include <cstdint>
#include <optional>
#include <string>

namespace lathe::jobs {

enum class RunResult { Completed, Stopped };

class JobContext
{
public:
    virtual ~JobContext() = default;

    virtual const store::JobRecord &job() const = 0;
    virtual int64_t runId() const = 0;
    // A folder for this run's checkpoints and outputs (created, kept across attempts).
    virtual std::string workDir() const = 0;
    // The latest checkpoint recorded for the run (nullopt on a fresh start).
    virtual std::optional<store::CheckpointRecord> resumeFrom() const = 0;

    // Cheap enough to call every step (store polls are throttled).
    virtual bool keepGoing() = 0;
    // True once a pause is due (asked by the user or a budget); a runner that saves
    // checkpoints only on demand saves one now (checkpointSaved() will then say stop).
    virtual bool pauseRequested() const = 0;
    // See the banner. path is the checkpoint file or folder; bytes its size if known.
    virtual bool checkpointSaved(int64_t step, const std::string &path, std::optional<int64_t> bytes = {}) = 0;
    // A checkpoint the runner deleted (retention): its record goes, so the run's recorded
    // checkpoints are the ones on disk. Call it only after the newer checkpoint was saved
    // through checkpointSaved(). Unknown paths are ignored.
    virtual void checkpointRemoved(const std::string &path) = 0;

    // Thread-safe; batched to the store (never blocks on the disk).
    virtual void metric(int64_t step, const std::string &name, double value) = 0;
    // fraction in [0, 1]; message is shown in job lists ("step 120/500").
    virtual void progress(double fraction, const std::string &message) = 0;
    // Run-level totals so far (absolute, as restored from a checkpoint plus this
    // attempt's work): what the run list, cost per 1k tokens and what-if read.
    virtual void totals(int64_t tokensTrained, int64_t tokensGenerated, double flops,
                        std::optional<int64_t> peakVramBytes = {}) = 0;
    // The run's final metrics (JSON object text), stored when it completes.
    virtual void finalMetrics(const std::string &json) = 0;
};

class JobRunner
{
public:
    virtual ~JobRunner() = default;
    virtual RunResult run(JobContext &context) = 0;
};

} // namespace lathe::jobs
