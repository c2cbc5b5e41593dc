// What-if estimates (see WhatIf.h).
#include "cost/WhatIf.h"

#include "core/Error.h"

#include <cstdio>

namespace lathe::cost {

std::vector<WhatIfEstimate> whatIf(const RunMeasurement &run, const PriceProfile &ranOn,
                                   const std::vector<PriceProfile> &others, const WhatIfOptions &options)
{
    if (!(run.seconds > 0))
        fail("what-if: the run has no measured duration");
    const bool byRatio = ranOn.denseTflops > 0;
    if (!byRatio && !(run.flops > 0))
        fail("what-if: profile '" + ranOn.name + "' has no published throughput and the run recorded no FLOPs");
    if (!byRatio && !(options.assumedUtilisation > 0 && options.assumedUtilisation <= 1))
        fail("what-if: assumed utilisation must be in (0, 1]");
    std::vector<WhatIfEstimate> out;
    for (const PriceProfile &p : others) {
        if (!(p.denseTflops > 0))
            continue;
        WhatIfEstimate e;
        e.profile = p.name;
        char basis[160];
        if (byRatio) {
            e.seconds = run.seconds * ranOn.denseTflops / p.denseTflops;
            std::snprintf(basis, sizeof basis, "measured time x %.4g / %.4g TFLOPS (published dense)",
                          ranOn.denseTflops, p.denseTflops);
        } else {
            e.seconds = run.flops / (options.assumedUtilisation * p.denseTflops * 1e12);
            std::snprintf(basis, sizeof basis, "%.3g FLOPs at %.0f%% of %.4g TFLOPS (assumed utilisation)",
                          run.flops, options.assumedUtilisation * 100, p.denseTflops);
        }
        e.basis = basis;
        e.cost = computeCost(p, e.seconds, estimatedEnergy(p.tdpWatts, e.seconds));
        e.perThousandTokens = costPerThousandTokens(e.cost.total, run.tokens);
        e.speedup = run.seconds / e.seconds;
        e.fits = !run.peakMemoryGb || p.memoryGb <= 0 || *run.peakMemoryGb <= p.memoryGb;
        out.push_back(std::move(e));
    }
    return out;
}

} // namespace lathe::cost
