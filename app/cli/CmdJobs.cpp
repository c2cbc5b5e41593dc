// lathe-cli jobs list|submit|cancel|pause|resume: the persistent job queue from the
// command line. Cancel and pause reach a job running in another process (the GUI, or
// another lathe-cli) through the store; resume --run (and submit --run) runs the job in
// this process until it completes, pauses or fails, printing its progress (a train job
// with `lathe-cli train`'s lines, its cost card at the end, and Ctrl-C to cancel).
#include "CliCommon.h"
#include "CliStore.h"
#include "CliTrain.h"
#include "Commands.h"
#include "jobs/JobQueue.h"
#include "jobs/TrainRunner.h"
#include "store/JobRepository.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lathe::cli {

namespace {

using store::JobState;

const char *const kUsage =
    "Usage: lathe-cli jobs list|submit|cancel|pause|resume [OPTIONS]\n\n"
    "  list            the jobs in the queue, newest first\n"
    "  submit SPEC     queue a training run (a run spec JSON file; --run to run it here)\n"
    "  cancel JOB      cancel a job (a running one stops at its next step)\n"
    "  pause JOB       pause a running job at its next checkpoint\n"
    "  resume JOB      queue a paused, interrupted or cancelled job again (--run to run it here)\n\n"
    "Run 'lathe-cli jobs SUBCOMMAND --help' for its options.\n";

int list(const Args &argv)
{
    ArgParser args("jobs list", "[--state S] [--limit N] [--db PATH]", "Lists the jobs in the queue, newest first.");
    addDbOption(args).option("state", "S", "only jobs in this state").option("limit", "N", "at most N jobs", "50");
    if (!args.parse(argv))
        return 0;
    if (!storeExists(args)) {
        std::printf("No jobs yet (no database at %s).\n", dbPath(args).c_str());
        return 0;
    }
    auto db = openCliStore(args);
    std::vector<JobState> states;
    if (args.has("state"))
        states.push_back(store::parseJobState(args.value("state")));
    const auto jobs = store::JobRepository(*db).list(states, int(args.intValue("limit", 1, 1000000)));
    std::printf("%-6s %-15s %-11s %4s %-4s %6s %6s  %-19s  %s\n", "ID", "KIND", "STATE", "PRIO", "RES", "DONE", "RUN",
                "UPDATED", "NOTE");
    for (const store::JobRecord &j : jobs) {
        std::string note = j.message;
        if (j.pauseReason)
            note = *j.pauseReason;
        if (j.error)
            note = *j.error;
        if (j.request)
            note = *j.request + " requested; " + note;
        std::printf("%-6lld %-15s %-11s %4d %-4s %5.1f%% %6s  %-19s  %s\n", (long long)j.id, store::jobKindName(j.kind),
                    store::jobStateName(j.state), j.priority, store::jobResourceName(j.resource), j.progress * 100,
                    j.runId ? std::to_string(*j.runId).c_str() : "-", formatTime(j.updatedAt).c_str(), note.c_str());
    }
    if (jobs.empty())
        std::printf("(no jobs)\n");
    return 0;
}

// A real train job (not the simulated demo): it runs with `lathe-cli train`'s progress lines.
bool isModelTraining(const store::JobRecord &job)
{
    if (job.kind != store::JobKind::Train)
        return false;
    const nlohmann::json spec = nlohmann::json::parse(job.specJson, nullptr, false);
    return !(spec.is_object() && spec.value("simulated", false));
}

// Runs one job in this process until it leaves the running state; exit code 0 when it
// completed.
int runHere(const ArgParser &args, int64_t id)
{
    {
        auto db = openCliStore(args);
        const auto job = store::JobRepository(*db).find(id);
        if (job && isModelTraining(*job))
            return runTrainJobHere(dbPath(args), id, 1);
    }
    jobs::JobQueueOptions o;
    o.storePath = dbPath(args);
    o.onlyJobs = {id};
    std::atomic<int64_t> lastPrinted{-1};
    o.listener = [&](const jobs::JobEvent &e) {
        if (e.jobId != id)
            return;
        if (e.type == jobs::JobEvent::Type::Progress) {
            const int64_t pct = int64_t(e.progress * 100); // a line per percent
            if (pct != lastPrinted.exchange(pct))
                std::printf("job %lld: %5.1f%%  %s\n", (long long)id, e.progress * 100, e.message.c_str());
        } else if (e.type == jobs::JobEvent::Type::State) {
            std::printf("job %lld: %s%s\n", (long long)id, store::jobStateName(e.state),
                        e.message.empty() ? "" : (" (" + e.message + ")").c_str());
        } else if (e.type == jobs::JobEvent::Type::Warning) {
            std::printf("job %lld: warning: %s\n", (long long)id, e.message.c_str());
        }
        std::fflush(stdout);
    };
    jobs::JobQueue queue(o);
    queue.registerRunner(store::JobKind::Train, std::make_shared<jobs::TrainRunner>());
    queue.start();
    const JobState s = queue.waitFor(
        id, {JobState::Completed, JobState::Failed, JobState::Cancelled, JobState::Paused, JobState::Interrupted},
        std::chrono::hours(24 * 365));
    queue.shutdown();
    return s == JobState::Completed ? 0 : 1;
}

int submit(const Args &argv)
{
    ArgParser args("jobs submit", "SPEC [--name NAME] [--priority N] [--profile NAME] [--run] [--db PATH]",
                   "Queues a training run described by a run spec JSON file (see 'lathe-cli train --help').\n"
                   "The job is in the store before anything runs; with --run this process runs it now.\n"
                   "--simulate queues the simulated trainer instead (SPEC holds its own small spec:\n"
                   "steps, checkpoint_every, step_ms), a demo of the queue that needs no model.");
    addDbOption(args)
        .positional("SPEC", "run spec JSON file")
        .option("name", "NAME", "the run's name (default: 'train #JOB')")
        .option("priority", "N", "higher runs first", "0")
        .option("profile", "NAME", "price profile to charge (default: the default profile)")
        .flag("run", "run the job in this process now")
        .flag("simulate", "the simulated trainer (no model)");
    if (!args.parse(argv))
        return 0;
    const std::string path = args.positionalValue(0);
    std::ifstream in(path);
    if (!in)
        fail(path + ": cannot open");
    nlohmann::json spec = nlohmann::json::parse(in, nullptr, false);
    if (!spec.is_object())
        fail(path + ": not a JSON object");
    spec["spec_dir"] = std::filesystem::absolute(path).parent_path().string();
    if (args.has("simulate")) {
        spec.erase("spec_dir");
        spec["simulated"] = true;
    }
    if (args.has("profile"))
        spec["price_profile"] = args.value("profile");
    jobs::JobSpec job;
    job.kind = store::JobKind::Train;
    if (!args.has("simulate"))
        job.resource = store::JobResource::Cpu; // as `lathe-cli train`: the trainer runs on the CPU
    job.name = args.value("name");
    job.priority = int(args.intValue("priority", -1000000, 1000000));
    job.specJson = spec.dump();
    jobs::JobQueueOptions o;
    o.storePath = dbPath(args);
    int64_t id = 0;
    {
        jobs::JobQueue queue(o); // creates the store when needed
        id = queue.submit(job);
    }
    std::printf("job %lld queued\n", (long long)id);
    return args.has("run") ? runHere(args, id) : 0;
}

int cancel(const Args &argv)
{
    ArgParser args("jobs cancel", "JOB [--db PATH]",
                   "Cancels a job: one not running at once, a running one at its next step (the process\n"
                   "running it, this one or another, picks the request up from the store).");
    addDbOption(args).positional("JOB", "job id");
    if (!args.parse(argv))
        return 0;
    const int64_t id = idArgument(args, 0, "JOB");
    auto db = openCliStore(args);
    store::JobRepository jobs(*db);
    if (!jobs.find(id))
        fail("job " + std::to_string(id) + ": no such job in " + dbPath(args));
    const JobState s = jobs.cancel(id);
    if (s == JobState::Running)
        std::printf("job %lld: cancel requested; it stops at its next step\n", (long long)id);
    else
        std::printf("job %lld: %s\n", (long long)id, store::jobStateName(s));
    return 0;
}

int pause(const Args &argv)
{
    ArgParser args("jobs pause", "JOB [--db PATH]", "Asks a running job to pause at its next checkpoint.");
    addDbOption(args).positional("JOB", "job id");
    if (!args.parse(argv))
        return 0;
    const int64_t id = idArgument(args, 0, "JOB");
    auto db = openCliStore(args);
    store::JobRepository jobs(*db);
    const auto job = jobs.find(id);
    if (!job)
        fail("job " + std::to_string(id) + ": no such job in " + dbPath(args));
    if (!jobs.requestPause(id))
        fail("job " + std::to_string(id) + " is " + store::jobStateName(job->state) + ", not running");
    std::printf("job %lld: pause requested; it pauses at its next checkpoint\n", (long long)id);
    return 0;
}

int resume(const Args &argv)
{
    ArgParser args("jobs resume", "JOB [--run] [--db PATH]",
                   "Queues a paused or interrupted job, or a cancelled train job, again; it continues from\n"
                   "its last checkpoint with its recorded metrics kept. With --run this process runs it now.");
    addDbOption(args).positional("JOB", "job id").flag("run", "run the job in this process now");
    if (!args.parse(argv))
        return 0;
    const int64_t id = idArgument(args, 0, "JOB");
    {
        // Opening a queue first turns jobs of dead processes into interrupted ones.
        jobs::JobQueueOptions o;
        o.storePath = dbPath(args);
        if (!storeExists(args))
            fail("no Lathe database at " + o.storePath);
        jobs::JobQueue queue(o);
        queue.recoverInterrupted();
        const auto job = queue.job(id);
        if (!job)
            fail("job " + std::to_string(id) + ": no such job in " + o.storePath);
        if (job->state == JobState::Queued) {
            std::printf("job %lld is already queued\n", (long long)id);
        } else if (!queue.resume(id)) {
            fail("job " + std::to_string(id) + " is " + store::jobStateName(job->state) +
                 "; only paused or interrupted jobs, and cancelled train jobs, resume");
        } else {
            std::printf("job %lld queued again\n", (long long)id);
        }
    }
    return args.has("run") ? runHere(args, id) : 0;
}

} // namespace

int runJobs(const Args &argv)
{
    return dispatchSubcommand(argv, kUsage,
                              {{"list", list},
                               {"submit", submit},
                               {"cancel", cancel},
                               {"pause", pause},
                               {"resume", resume}});
}

} // namespace lathe::cli
