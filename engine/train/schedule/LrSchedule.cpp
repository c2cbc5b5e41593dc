// Learning-rate schedule multipliers (see LrSchedule.h).
#include "train/schedule/LrSchedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace lathe {

const char *scheduleKindName(ScheduleKind kind)
{
    switch (kind) {
    case ScheduleKind::Constant: return "constant";
    case ScheduleKind::Linear: return "linear";
    case ScheduleKind::Cosine: return "cosine";
    }
    return "?";
}

std::optional<ScheduleKind> scheduleKindFromName(const std::string &name)
{
    for (ScheduleKind k : {ScheduleKind::Constant, ScheduleKind::Linear, ScheduleKind::Cosine})
        if (name == scheduleKindName(k))
            return k;
    return std::nullopt;
}

double LrSchedule::factor(int64_t step) const
{
    if (step < warmupSteps)
        return double(step) / double(std::max<int64_t>(1, warmupSteps));
    const double span = double(std::max<int64_t>(1, totalSteps - warmupSteps));
    switch (kind) {
    case ScheduleKind::Constant: return 1.0;
    case ScheduleKind::Linear: return std::max(0.0, double(totalSteps - step) / span);
    case ScheduleKind::Cosine: {
        const double progress = double(step - warmupSteps) / span;
        return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
    }
    }
    return 1.0;
}

} // namespace lathe
