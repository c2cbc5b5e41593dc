// Price profile helpers (see PriceProfile.h).
#include "cost/PriceProfile.h"

#include "core/Error.h"

#include <cmath>

namespace lathe::cost {

double PriceProfile::amortisationPerHour() const
{
    return lifetimeHours > 0 ? purchasePrice / lifetimeHours : 0.0;
}

const char *profileKindName(ProfileKind kind)
{
    return kind == ProfileKind::Owned ? "owned" : "rental";
}

ProfileKind parseProfileKind(const std::string &name)
{
    if (name == "rental")
        return ProfileKind::Rental;
    if (name == "owned")
        return ProfileKind::Owned;
    fail("price profile kind: unknown value '" + name + "' (expected rental or owned)");
}

void validate(const PriceProfile &p)
{
    const std::string where = "price profile '" + p.name + "': ";
    const struct
    {
        const char *field;
        double value;
    } fields[] = {{"hourly_rate", p.hourlyRate}, {"purchase_price", p.purchasePrice},
                  {"lifetime_hours", p.lifetimeHours}, {"kwh_price", p.kwhPrice},
                  {"tdp_watts", p.tdpWatts}, {"dense_tflops", p.denseTflops}, {"memory_gb", p.memoryGb}};
    for (const auto &f : fields)
        if (!std::isfinite(f.value) || f.value < 0)
            fail(where + f.field + " must be a finite number >= 0, got " + std::to_string(f.value));
    if (p.name.empty())
        fail("price profile: name is empty");
    if (p.purchasePrice > 0 && p.lifetimeHours <= 0)
        fail(where + "lifetime_hours must be > 0 when purchase_price is set");
    if (p.hourlyRate == 0 && p.purchasePrice == 0 && p.kwhPrice == 0)
        fail(where + "charges nothing: set hourly_rate, or purchase_price + lifetime_hours, or kwh_price");
}

} // namespace lathe::cost
