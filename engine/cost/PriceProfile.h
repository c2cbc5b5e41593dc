// PriceProfile: what an hour of compute costs on one card. Two kinds:
//   rental: an hourly rate (electricity included, as cloud prices are);
//   owned:  purchase price spread over an expected lifetime in hours (amortisation),
//           plus the energy drawn at the local price per kWh.
// The fields are all used by the same formula (see CostModel.h), so a rental with a
// separate power bill, or an owned card with a maintenance rate, is expressible too.
// The published dense tensor throughput and memory feed the what-if estimates.
#pragma once

#include <string>
#include <vector>

namespace lathe::cost {

enum class ProfileKind { Rental, Owned };

struct PriceProfile
{
    std::string name;
    ProfileKind kind = ProfileKind::Rental;
    std::string currency = "USD";
    double hourlyRate = 0;    // currency per hour of use
    double purchasePrice = 0; // currency
    double lifetimeHours = 0; // hours of use the purchase is spread over
    double kwhPrice = 0;      // currency per kWh
    double tdpWatts = 0;      // board power limit: the energy estimate when nothing is measured
    double denseTflops = 0;   // published dense FP16/BF16 tensor throughput (no sparsity)
    double memoryGb = 0;
    std::string note;         // where the numbers come from

    // Currency per hour from the purchase price (0 when lifetimeHours is 0).
    double amortisationPerHour() const;
};

const char *profileKindName(ProfileKind kind); // "rental", "owned"
ProfileKind parseProfileKind(const std::string &name); // Error on anything else

// Error naming the profile and field when a value is negative or not finite, an owned
// profile has a price but no lifetime, or a profile charges nothing at all.
void validate(const PriceProfile &profile);

// The editable examples Lathe starts with (T4, A10, L4, A100, H100, RTX 4090,
// RTX 4060 Ti 16 GB). Their sources and assumptions are in ExampleProfiles.cpp.
std::vector<PriceProfile> exampleProfiles();

} // namespace lathe::cost
