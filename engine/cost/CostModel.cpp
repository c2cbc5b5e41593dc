// Cost arithmetic (see CostModel.h).
#include "cost/CostModel.h"

#include "core/Error.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lathe::cost {

double kwhFromJoules(double joules)
{
    return joules / kJoulesPerKwh;
}

CostBreakdown computeCost(const PriceProfile &profile, double seconds, const Energy &energy, int gpus)
{
    if (!std::isfinite(seconds) || seconds < 0)
        fail("cost: duration must be >= 0 seconds, got " + std::to_string(seconds));
    if (!std::isfinite(energy.joules) || energy.joules < 0)
        fail("cost: energy must be >= 0 J, got " + std::to_string(energy.joules));
    if (gpus < 1)
        fail("cost: gpus must be >= 1, got " + std::to_string(gpus));
    CostBreakdown c;
    const double hours = seconds / 3600.0;
    c.seconds = seconds;
    c.gpuHours = hours * gpus;
    c.energyJoules = energy.joules;
    c.timeCost = hours * (profile.hourlyRate + profile.amortisationPerHour()) * gpus;
    c.energyCost = kwhFromJoules(energy.joules) * profile.kwhPrice;
    c.total = c.timeCost + c.energyCost;
    c.currency = profile.currency;
    c.energySource = energy.source;
    c.energyMeasured = energy.measured;
    return c;
}

std::optional<double> costPerThousandTokens(double cost, int64_t tokens)
{
    if (tokens <= 0)
        return std::nullopt;
    return cost / double(tokens) * 1000.0;
}

Energy estimatedEnergy(double watts, double seconds)
{
    return {watts * seconds, "tdp", false};
}

std::string formatMoney(double amount, const std::string &currency)
{
    const double a = std::fabs(amount);
    // Cents above one unit; a tenth of a cent below (fine-tunes on small cards cost cents);
    // two significant digits below a cent, so small costs never print as zero.
    int decimals = a >= 1 || a == 0 ? 2 : 3;
    if (a > 0 && a < 0.01)
        decimals = std::min(8, int(std::ceil(-std::log10(a))) + 1);
    char buf[64];
    if (currency == "USD")
        std::snprintf(buf, sizeof buf, "%s$%.*f", amount < 0 ? "-" : "", decimals, a);
    else
        std::snprintf(buf, sizeof buf, "%.*f %s", decimals, amount, currency.c_str());
    return buf;
}

} // namespace lathe::cost
