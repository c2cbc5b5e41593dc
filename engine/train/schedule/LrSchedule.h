// Learning-rate schedules with linear warmup, with the multipliers of Hugging Face's
// get_{constant,linear,cosine}_schedule_with_warmup. Step s (0-based) is the index of the
// optimiser update about to be taken, so with warmup the first update runs at lr 0, as
// in transformers (the scheduler is stepped after the optimiser).
//   warmup (s < W):  s / max(1, W)
//   constant:        1
//   linear:          max(0, (N - s) / max(1, N - W))
//   cosine:          max(0, 0.5 (1 + cos(pi * (s - W) / max(1, N - W))))
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace lathe {

enum class ScheduleKind : uint8_t { Constant = 0, Linear = 1, Cosine = 2 };

const char *scheduleKindName(ScheduleKind kind);
std::optional<ScheduleKind> scheduleKindFromName(const std::string &name);

struct LrSchedule
{
    ScheduleKind kind = ScheduleKind::Constant;
    double peakLr = 1e-4;
    int64_t warmupSteps = 0;
    int64_t totalSteps = 1; // N: optimiser updates of the whole run

    // The multiplier of peakLr at step s (see the banner).
    double factor(int64_t step) const;
    double lr(int64_t step) const { return peakLr * factor(step); }
};

} // namespace lathe
