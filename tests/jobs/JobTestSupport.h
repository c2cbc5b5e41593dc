// Shared by the job queue tests and the crash test: queue options that poll fast and
// never touch real power sensors, the simulated trainer's spec, and its loss curve
// computed independently from the formula in SimulatedTrainRunner.h.
#pragma once

#include "cost/PowerSource.h"
#include "jobs/JobQueue.h"
#include "store/RunRepository.h"

#include <QtTest>

#include <cmath>
#include <string>
#include <vector>

namespace lathe::test {

inline jobs::JobQueueOptions fastQueueOptions(const std::string &storePath)
{
    jobs::JobQueueOptions o;
    o.storePath = storePath;
    o.pollInterval = std::chrono::milliseconds(10);
    o.energyInterval = std::chrono::milliseconds(20);
    o.metrics.interval = std::chrono::milliseconds(20);
    o.powerSource = [](const store::JobRecord &, const std::optional<cost::PriceProfile> &) {
        return cost::makeTdpEstimate(100);
    };
    return o;
}

inline std::string simSpec(int64_t steps, int64_t checkpointEvery, int64_t stepMs, const std::string &extra = {})
{
    return "{\"steps\": " + std::to_string(steps) + ", \"checkpoint_every\": " + std::to_string(checkpointEvery) +
           ", \"step_ms\": " + std::to_string(stepMs) + ", \"seed\": 3" + (extra.empty() ? "" : ", " + extra) + "}";
}

// x_0 = 2 + 0.1 (seed mod 7); x_s = x_{s-1} - 0.05 (x_{s-1} - 1) + 0.01 sin(s); loss_s = x_s.
inline std::vector<double> referenceLoss(int64_t steps, int64_t seed = 3)
{
    std::vector<double> out;
    double x = 2.0 + 0.1 * double(seed % 7);
    for (int64_t s = 1; s <= steps; ++s) {
        x = x - 0.05 * (x - 1.0) + 0.01 * std::sin(double(s));
        out.push_back(x);
    }
    return out;
}

// The run's loss rows are exactly steps 1..upTo with the expected values, bit for bit
// (expected[i] is the loss of step i + 1).
inline bool lossCurveMatches(store::Connection &db, int64_t runId, int64_t upTo, const std::vector<double> &expected,
                             std::string *why = nullptr)
{
    const auto rows = store::RunRepository(db).metrics(runId, "loss");
    if (int64_t(rows.size()) != upTo || upTo > int64_t(expected.size())) {
        if (why)
            *why = "expected " + std::to_string(upTo) + " loss rows, found " + std::to_string(rows.size());
        return false;
    }
    for (int64_t i = 0; i < upTo; ++i)
        if (rows[size_t(i)].step != i + 1 || rows[size_t(i)].value != expected[size_t(i)]) {
            if (why)
                *why = "row " + std::to_string(i) + ": step " + std::to_string(rows[size_t(i)].step) + " value " +
                       std::to_string(rows[size_t(i)].value) + ", expected step " + std::to_string(i + 1) +
                       " value " + std::to_string(expected[size_t(i)]);
            return false;
        }
    return true;
}

// The simulated trainer's curve (the simulated trainer restores its state exactly).
inline bool lossCurveIsExact(store::Connection &db, int64_t runId, int64_t upTo, int64_t totalSteps,
                             std::string *why = nullptr)
{
    return lossCurveMatches(db, runId, upTo, referenceLoss(totalSteps), why);
}

} // namespace lathe::test
