// The demo's summary beside its store, and the results it prints (see Demo.h).
#include "Demo.h"

#include "CliCommon.h"
#include "CliStore.h"
#include "cost/CostModel.h"
#include "jobs/CostLedger.h"
#include "store/RunRepository.h"
#include "store/StoreFile.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace lathe::cli::demo {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string shellQuoted(const std::string &s)
{
    if (s.find_first_of(" \t'\"\\$`") == std::string::npos)
        return s;
    std::string q = "'";
    for (char c : s)
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

json toJson(const Summary &s)
{
    return {{"job_id", s.jobId},
            {"run_id", s.runId},
            {"steps", s.steps},
            {"tokens", s.tokens},
            {"eval_before", s.evalBefore},
            {"eval_after", s.evalAfter},
            {"seconds", s.seconds},
            {"step_seconds", s.stepSeconds},
            {"peak_memory",
             {{"weights", s.peak.weights},
              {"trainable", s.peak.adapter},
              {"optimizer", s.peak.optimizer},
              {"activations", s.peak.activations},
              {"workspace", s.peak.workspace}}},
            {"checkpoint", s.checkpoint}};
}

Summary fromJson(const json &j)
{
    Summary s;
    s.jobId = j.at("job_id").get<int64_t>();
    s.runId = j.at("run_id").get<int64_t>();
    s.steps = j.at("steps").get<int64_t>();
    s.tokens = j.at("tokens").get<int64_t>();
    s.evalBefore = j.at("eval_before").get<double>();
    s.evalAfter = j.at("eval_after").get<double>();
    s.seconds = j.at("seconds").get<double>();
    s.stepSeconds = j.at("step_seconds").get<double>();
    const json &m = j.at("peak_memory");
    s.peak = {m.at("weights").get<int64_t>(), m.at("trainable").get<int64_t>(), m.at("optimizer").get<int64_t>(),
              m.at("activations").get<int64_t>(), m.at("workspace").get<int64_t>()};
    s.checkpoint = j.at("checkpoint").get<std::string>();
    return s;
}

} // namespace

void saveSummary(const Setup &setup, const Summary &summary)
{
    writeTextFile(setup.summary, toJson(summary).dump(2) + "\n");
}

std::optional<Summary> previousTraining(const Setup &setup)
{
    std::ifstream in(setup.summary);
    if (!in || !fs::exists(setup.dbPath))
        return std::nullopt;
    const json j = json::parse(in, nullptr, false);
    Summary s;
    try {
        s = fromJson(j);
    } catch (const json::exception &) {
        return std::nullopt; // damaged or from another version: train again
    }
    if (s.steps != setup.steps || !fs::exists(s.trainedModel()))
        return std::nullopt;
    store::StoreOptions so;
    so.create = false;
    const auto run = store::RunRepository(*store::openStore(setup.dbPath, so)).find(s.runId);
    if (!run || run->status != "completed")
        return std::nullopt;
    return s;
}

void printResults(const Setup &setup, const Summary &s)
{
    std::printf("  validation loss   %.3f -> %.3f  (perplexity %.1f -> %.2f; the loss of a uniform guess over "
                "the 260 tokens is %.3f)\n",
                s.evalBefore, s.evalAfter, std::exp(s.evalBefore), std::exp(s.evalAfter), std::log(260.0));
    std::printf("  training          %lld steps, %s tokens, %.0f tokens/s; %.1f s with evaluations\n",
                (long long)s.steps, humanCount(double(s.tokens)).c_str(),
                s.stepSeconds > 0 ? double(s.tokens) / s.stepSeconds : 0.0, s.seconds);
    std::string parts;
    auto part = [&](const char *name, int64_t bytes) {
        if (bytes > 0)
            parts += std::string(parts.empty() ? "" : ", ") + name + " " + humanBytes(double(bytes));
    };
    part("frozen weights", s.peak.weights);
    part("weights + gradients", s.peak.adapter);
    part("AdamW moments", s.peak.optimizer);
    part("activations", s.peak.activations);
    part("workspace", s.peak.workspace);
    std::printf("  peak memory       %s: %s\n", humanBytes(double(s.peak.total())).c_str(), parts.c_str());

    store::StoreOptions so;
    so.create = false;
    const auto db = store::openStore(setup.dbPath, so);
    const cost::CostCard card = jobs::CostLedger(*db).costCard(s.runId);
    const cost::CostBreakdown &c = card.cost;
    std::string power = card.powerDescription.empty() ? c.energySource : card.powerDescription;
    if (c.energySource == "tdp")
        power = "estimated as " + std::to_string(int(kCpuWatts)) + " W for the CPU package x time";
    else if (c.energySource == "rapl")
        power = "measured by RAPL, the whole CPU package";
    std::printf("  cost              %s%s: %.2g kWh (%s), price profile \"%s\"\n",
                cost::formatMoney(c.total, c.currency).c_str(), c.energyMeasured ? "" : " (estimated)",
                cost::kwhFromJoules(c.energyJoules), power.c_str(), card.profileName.c_str());
    const std::string dbArg = shellQuoted(setup.dbPath);
    std::printf("  in the store      run %lld: lathe-cli runs list --db %s\n", (long long)s.runId, dbArg.c_str());
    std::printf("                    lathe-cli runs show %lld --db %s\n", (long long)s.runId, dbArg.c_str());
}

} // namespace lathe::cli::demo
