// lathe-cli runs list|show|export: the run history in the store — every training,
// evaluation and generation run with its spec, status, timings, lineage, metrics,
// checkpoints and cost.
#include "CliCommon.h"
#include "CliStore.h"
#include "Commands.h"
#include "cost/Reports.h"
#include "jobs/CostLedger.h"
#include "store/RunRepository.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace lathe::cli {

namespace {

const char *const kUsage = "Usage: lathe-cli runs list|show|export [OPTIONS]\n\n"
                           "  list            the runs, newest first, with their last loss and cost\n"
                           "  show RUN        one run: spec, status, timings, lineage, metrics, checkpoints, cost\n"
                           "  export RUN      its metrics as CSV or JSON\n\n"
                           "Run 'lathe-cli runs SUBCOMMAND --help' for its options.\n";

std::string money(double v)
{
    return cost::formatMoney(v);
}

int list(const Args &argv)
{
    ArgParser args("runs list", "[--status S] [--limit N] [--db PATH]", "Lists the runs in the store, newest first.");
    addDbOption(args)
        .option("status", "S", "only runs with this status (running, paused, completed, failed, ...)")
        .option("limit", "N", "at most N runs", "50");
    if (!args.parse(argv))
        return 0;
    if (!storeExists(args)) {
        std::printf("No runs recorded yet (no database at %s).\n", dbPath(args).c_str());
        return 0;
    }
    auto db = openCliStore(args);
    const auto runs = store::RunRepository(*db).list(int(args.intValue("limit", 1, 1000000)), args.value("status"));
    std::printf("%-6s %-28s %-9s %-11s %8s %10s %10s  %s\n", "ID", "NAME", "KIND", "STATUS", "STEP", "LAST LOSS",
                "COST", "CREATED");
    for (const store::RunSummary &s : runs) {
        const std::string loss = s.lastLoss ? [&] {
            char b[32];
            std::snprintf(b, sizeof b, "%.4f", *s.lastLoss);
            return std::string(b);
        }()
                                            : std::string("-");
        std::printf("%-6lld %-28.28s %-9s %-11s %8lld %10s %10s  %s\n", (long long)s.run.id, s.run.name.c_str(),
                    s.run.kind.c_str(), s.run.status.c_str(), (long long)s.lastStep, loss.c_str(),
                    money(s.totalCost).c_str(), formatTime(s.run.createdAt).c_str());
    }
    if (runs.empty())
        std::printf("(no runs)\n");
    return 0;
}

void printMetricSummary(store::RunRepository &runs, int64_t id)
{
    const auto names = runs.metricNames(id);
    if (names.empty()) {
        std::printf("metrics:        none\n");
        return;
    }
    std::printf("metrics:        %lld rows\n", (long long)runs.metricCount(id));
    for (const std::string &name : names) {
        const auto rows = runs.metrics(id, name);
        double lo = rows.front().value, hi = lo;
        for (const auto &r : rows) {
            lo = std::min(lo, r.value);
            hi = std::max(hi, r.value);
        }
        std::printf("  %-14s %6zu steps %lld..%lld, first %.6g, last %.6g, min %.6g, max %.6g\n", name.c_str(),
                    rows.size(), (long long)rows.front().step, (long long)rows.back().step, rows.front().value,
                    rows.back().value, lo, hi);
    }
}

int show(const Args &argv)
{
    ArgParser args("runs show", "RUN [--db PATH]", "Shows one run with its metrics, checkpoints and cost card.");
    addDbOption(args).positional("RUN", "run id (see 'runs list')");
    if (!args.parse(argv))
        return 0;
    const int64_t id = idArgument(args, 0, "RUN");
    auto db = openCliStore(args);
    store::RunRepository runs(*db);
    const auto run = runs.find(id);
    if (!run)
        fail("run " + std::to_string(id) + ": no such run in " + dbPath(args));
    std::printf("run:            %lld  %s\n", (long long)run->id, run->name.c_str());
    std::printf("kind:           %s\n", run->kind.c_str());
    std::printf("status:         %s%s\n", run->status.c_str(), run->error ? (" (" + *run->error + ")").c_str() : "");
    std::printf("created:        %s\n", formatTime(run->createdAt).c_str());
    std::printf("started:        %s\n", formatTime(run->startedAt.value_or(0)).c_str());
    std::printf("finished:       %s\n", formatTime(run->finishedAt.value_or(0)).c_str());
    if (run->baseModelId)
        std::printf("base model:     #%lld\n", (long long)*run->baseModelId);
    if (run->datasetId)
        std::printf("dataset:        #%lld\n", (long long)*run->datasetId);
    if (run->adapterPath)
        std::printf("adapter:        %s\n", run->adapterPath->c_str());
    if (run->resumedFrom)
        std::printf("resumed from:   run %lld\n", (long long)*run->resumedFrom);
    std::printf("tokens:         %lld trained, %lld generated\n", (long long)run->tokensTrained,
                (long long)run->tokensGenerated);
    if (run->flops > 0)
        std::printf("FLOPs:          %.3g\n", run->flops);
    if (run->peakVramBytes)
        std::printf("peak memory:    %.3f GiB\n", double(*run->peakVramBytes) / (1024.0 * 1024 * 1024));
    std::printf("final metrics:  %s\n", run->finalMetricsJson.c_str());
    std::printf("spec:           %s\n", run->specJson.c_str());
    printMetricSummary(runs, id);
    const auto ckpts = runs.checkpoints(id);
    std::printf("checkpoints:    %zu", ckpts.size());
    if (!ckpts.empty())
        std::printf(", latest step %lld at %s", (long long)ckpts.back().step, ckpts.back().path.c_str());
    std::printf("\n\n%s", cost::formatCostCard(jobs::CostLedger(*db).costCard(id)).c_str());
    return 0;
}

int exportRun(const Args &argv)
{
    ArgParser args("runs export", "RUN [--format csv|json] [--metric NAME] [--out FILE] [--db PATH]",
                   "Writes a run's metrics: CSV (run_id,step,name,value,wall_time) or JSON (the run and its\n"
                   "metrics by name).");
    addDbOption(args)
        .positional("RUN", "run id")
        .option("format", "F", "csv or json", "csv")
        .option("metric", "NAME", "only this metric (default: all)")
        .option("out", "FILE", "output file ('-': stdout)", "-");
    if (!args.parse(argv))
        return 0;
    const int64_t id = idArgument(args, 0, "RUN");
    const std::string format = args.value("format");
    if (format != "csv" && format != "json")
        throw UsageError("--format: expected csv or json, got '" + format + "'");
    auto db = openCliStore(args);
    store::RunRepository runs(*db);
    const auto run = runs.find(id);
    if (!run)
        fail("run " + std::to_string(id) + ": no such run in " + dbPath(args));
    std::vector<std::string> names = args.has("metric") ? std::vector<std::string>{args.value("metric")}
                                                        : runs.metricNames(id);
    std::ostringstream out;
    if (format == "csv") {
        out << "run_id,step,name,value,wall_time\n";
        char line[160];
        for (const std::string &name : names)
            for (const auto &r : runs.metrics(id, name)) {
                std::snprintf(line, sizeof line, "%lld,%lld,%s,%.17g,%.3f\n", (long long)id, (long long)r.step,
                              name.c_str(), r.value, r.wallTime);
                out << line;
            }
    } else {
        nlohmann::json j;
        j["run"] = {{"id", run->id}, {"name", run->name}, {"kind", run->kind}, {"status", run->status},
                    {"created_at", run->createdAt}, {"tokens_trained", run->tokensTrained}};
        j["run"]["spec"] = nlohmann::json::parse(run->specJson, nullptr, false);
        j["run"]["final_metrics"] = nlohmann::json::parse(run->finalMetricsJson, nullptr, false);
        for (const std::string &name : names) {
            nlohmann::json steps = nlohmann::json::array(), values = nlohmann::json::array();
            for (const auto &r : runs.metrics(id, name)) {
                steps.push_back(r.step);
                values.push_back(r.value);
            }
            j["metrics"][name] = {{"step", steps}, {"value", values}};
        }
        out << j.dump(1) << "\n";
    }
    writeTextFile(args.value("out"), out.str());
    return 0;
}

} // namespace

int runRuns(const Args &argv)
{
    return dispatchSubcommand(argv, kUsage, {{"list", list}, {"show", show}, {"export", exportRun}});
}

} // namespace lathe::cli
