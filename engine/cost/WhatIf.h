// WhatIf: what a finished run would have taken and cost on other cards. Time scales by
// published dense tensor throughput: the run's achieved fraction of its own card's peak
// (its utilisation) is assumed to carry over, so
//   seconds' = seconds x tflops(ran on) / tflops(other).
// When the card it ran on has no published figure (a CPU run), the run's FLOPs and an
// assumed utilisation are used instead: seconds' = flops / (utilisation x tflops' x 1e12).
// Energy is the other card's TDP x seconds'. Every result is an estimate and says so.
#pragma once

#include "cost/CostModel.h"
#include "cost/PriceProfile.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lathe::cost {

struct RunMeasurement
{
    double seconds = 0;
    double flops = 0;    // total FLOPs the run did (0 if unknown)
    int64_t tokens = 0;  // tokens trained or generated
    std::optional<double> peakMemoryGb;
};

struct WhatIfOptions
{
    double assumedUtilisation = 0.35; // used only without a throughput for the source card
};

struct WhatIfEstimate
{
    std::string profile;
    double seconds = 0;
    CostBreakdown cost;
    std::optional<double> perThousandTokens;
    double speedup = 0;  // measured seconds / estimated seconds
    bool fits = true;    // the run's peak memory fits the card (true when unknown)
    std::string basis;   // how it was scaled, for the report
    static constexpr const char *label = "estimated";
};

// Error when the measurement has no duration, or neither the source card's throughput
// nor the run's FLOPs are known. Profiles without a throughput figure are skipped.
std::vector<WhatIfEstimate> whatIf(const RunMeasurement &run, const PriceProfile &ranOn,
                                   const std::vector<PriceProfile> &others, const WhatIfOptions &options = {});

} // namespace lathe::cost
