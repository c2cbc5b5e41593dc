// lathe-cli train: runs a training spec (engine/train/spec/RunSpec.h) on the CPU and
// prints one progress line per step. By default the run goes through the job queue and
// the store, as a GUI run does: the job is recorded before it starts, its metrics,
// checkpoints and cost are recorded as it goes, and the run id and cost card are printed
// at the end. --no-store runs the trainer directly and records nothing. Ctrl-C stops
// after the current step with a checkpoint (the job is then cancelled and `jobs resume`
// continues it). --resume continues from a checkpoint folder.
#include "CliStore.h"
#include "CliTrain.h"
#include "Commands.h"
#include "core/Error.h"
#include "jobs/JobQueue.h"
#include "store/RunRepository.h"
#include "store/StoreFile.h"
#include "train/checkpoint/Checkpoint.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace lathe::cli {

namespace {

namespace fs = std::filesystem;

// The run without the store: the trainer in this thread, nothing recorded.
int trainWithoutStore(const std::string &specPath, RunSpec spec, const ArgParser &args, int64_t logEvery)
{
    if (args.has("threads"))
        spec.threads = int(args.intValue("threads", 0, 4096));
    Trainer trainer(spec, specPath);
    if (args.has("resume"))
        trainer.resume(args.value("resume"));
    printTrainHeader(trainer, args.has("resume") ? trainer.step() : 0);
    InterruptGuard guard;
    const TrainResult r =
        trainer.run([&](const TrainMetrics &m) {
            printTrainStep(m, logEvery);
            return !InterruptGuard::interrupted();
        });
    printTrainResult(r);
    return r.reason == TrainStop::Cancelled ? kExitCancelled : 0;
}

// The job's spec: the spec file as written plus the queue's keys (see TrainRunner.h).
nlohmann::json jobSpecJson(const std::string &specPath, const ArgParser &args)
{
    std::ifstream in(specPath);
    if (!in)
        fail(specPath + ": cannot open");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception &e) {
        fail(specPath + ": not valid JSON: " + e.what());
    }
    if (!j.is_object())
        fail(specPath + ": not a JSON object");
    j["spec_dir"] = fs::absolute(specPath).parent_path().string();
    if (args.has("threads"))
        j["threads"] = args.intValue("threads", 0, 4096);
    if (args.has("profile"))
        j["price_profile"] = args.value("profile");
    return j;
}

// Every check that needs no model, before anything is recorded, with the file named. A
// spec without checkpoint.dir is fine here: the job saves into its run's folder.
void checkSpec(nlohmann::json j, const std::string &specPath)
{
    const std::string dir = j["spec_dir"].get<std::string>();
    j.erase("spec_dir");
    j.erase("price_profile");
    if (j.contains("checkpoint") && j["checkpoint"].is_object() &&
        (!j["checkpoint"].contains("dir") || j["checkpoint"]["dir"] == ""))
        j["checkpoint"]["dir"] = "run-folder"; // as TrainRunner does, with a stand-in name
    RunSpec::fromJson(j, specPath, dir);
}

} // namespace

int runTrain(const Args &argv)
{
    ArgParser args("train", "SPEC [--resume DIR] [--threads N] [--db PATH | --no-store] [--name NAME]",
                   "Trains a model as the JSON run spec SPEC describes (model, LoRA or full fine-tuning,\n"
                   "data, optimiser, schedule, batching, precision, evaluation, checkpoints, budget).\n"
                   "Prints one line per step: loss, learning rate, gradient norm, throughput, tokens seen\n"
                   "and memory. The run is a job of the store (--db): recorded before it starts, with its\n"
                   "metrics, checkpoints and cost, and shown by 'lathe-cli runs show RUN' afterwards; a\n"
                   "spec without checkpoint.dir saves into the run's folder beside the store.\n"
                   "Ctrl-C stops after the current step with a checkpoint (when checkpoint.at_stop is\n"
                   "set, the default); the job is then cancelled and 'lathe-cli jobs resume JOB --run'\n"
                   "continues it. Exit code 0 completed, 130 cancelled, 3 paused (a budget limit).");
    addDbOption(args)
        .positional("SPEC", "run spec (JSON)")
        .option("resume", "DIR", "continue from a checkpoint folder or a run folder (its newest checkpoint)")
        .option("threads", "N", "CPU threads, overriding the spec's (0: all)")
        .option("log-every", "N", "print every Nth step (evaluations and saves always)", "1")
        .option("name", "NAME", "the run's name in the store (default: the spec file's name)")
        .option("profile", "NAME", "price profile to charge (default: the default profile)")
        .flag("no-store", "run without recording anything in the store");
    if (!args.parse(argv))
        return 0;
    const int64_t logEvery = args.intValue("log-every", 1, int64_t(1) << 40);
    const std::string specPath = args.positionalValue(0);
    if (args.has("no-store")) {
        if (args.has("db") || args.has("name") || args.has("profile"))
            throw UsageError("--no-store records nothing; --db, --name and --profile need the store");
        return trainWithoutStore(specPath, RunSpec::fromFile(specPath), args, logEvery);
    }

    nlohmann::json specJson = jobSpecJson(specPath, args);
    checkSpec(specJson, specPath);
    jobs::JobSpec job;
    job.kind = store::JobKind::Train;
    job.resource = store::JobResource::Cpu; // the trainer runs on the CPU reference path
    job.name = args.has("name") ? args.value("name") : fs::path(specPath).stem().string();
    const std::string db = dbPath(args);
    if (args.has("resume")) {
        const std::string from = resolveCheckpointDir(fs::absolute(args.value("resume")).lexically_normal().string());
        specJson["resume_from"] = from;
        if (storeExists(args)) // lineage: the run that saved the checkpoint, if this store knows it
            job.resumedFrom = store::RunRepository(*store::openStore(db)).runOfCheckpoint(from);
    }
    job.specJson = specJson.dump();
    jobs::JobQueueOptions o;
    o.storePath = db;
    int64_t id = 0;
    {
        jobs::JobQueue queue(o); // creates the store when needed; the job is in it before it runs
        id = queue.submit(job);
        const auto record = queue.job(id);
        std::printf("job %lld: run %lld, recorded in %s\n", (long long)id, (long long)record->runId.value_or(0),
                    db.c_str());
        std::fflush(stdout);
    }
    return runTrainJobHere(db, id, logEvery);
}

} // namespace lathe::cli
