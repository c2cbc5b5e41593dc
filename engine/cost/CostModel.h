// CostModel: the ledger's arithmetic, kept free of I/O so it can be checked by hand.
//   hours       = seconds / 3600
//   time cost   = hours x (hourly_rate + purchase_price / lifetime_hours) x gpus
//   energy cost = joules / 3.6e6 (kWh) x kwh_price
//   total       = time cost + energy cost
//   per 1k tokens = total / tokens x 1000;   GPU-hours = hours x gpus
// Energy carries its origin: measured (NVML, RAPL) or estimated (TDP x time), and every
// figure derived from an estimate is labelled as one.
#pragma once

#include "cost/PriceProfile.h"

#include <cstdint>
#include <optional>
#include <string>

namespace lathe::cost {

struct Energy
{
    double joules = 0;
    std::string source = "tdp"; // "nvml", "rapl", "tdp"
    bool measured = false;
};

struct CostBreakdown
{
    double seconds = 0;
    double gpuHours = 0;
    double energyJoules = 0;
    double timeCost = 0;   // rental + amortisation
    double energyCost = 0; // electricity
    double total = 0;
    std::string currency = "USD";
    std::string energySource;
    bool energyMeasured = false;
    // "measured" when the energy came from a sensor, else "estimated". (Time is always
    // measured, so a pure rental cost is exact whatever the label says about energy.)
    const char *energyLabel() const { return energyMeasured ? "measured" : "estimated"; }
    bool dependsOnEnergy() const { return energyCost > 0; }
};

constexpr double kJoulesPerKwh = 3.6e6;

double kwhFromJoules(double joules);
// Error when seconds or joules is negative or not finite, or gpus < 1.
CostBreakdown computeCost(const PriceProfile &profile, double seconds, const Energy &energy, int gpus = 1);
// Cost per 1,000 tokens; nullopt when tokens <= 0.
std::optional<double> costPerThousandTokens(double cost, int64_t tokens);
// The energy a constant draw of watts over seconds would use (the TDP estimate).
Energy estimatedEnergy(double watts, double seconds);

// "$1.50", "$0.135", "$0.0042", "12.30 EUR": two decimals from one unit up, three
// below, two significant digits below a cent (small costs never print as zero).
std::string formatMoney(double amount, const std::string &currency = "USD");

} // namespace lathe::cost
