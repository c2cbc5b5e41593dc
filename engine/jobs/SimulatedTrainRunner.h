// SimulatedTrainRunner: a stand-in for the trainer with the same shape — steps, a loss
// per step, checkpoints every K steps written by temp file + fsync + rename, and resume
// from the latest checkpoint — but no model. The job queue's tests and the crash test
// drive it until the real train runner is wired in its place; `lathe-cli jobs` can run it
// as a demo. Its loss follows a fixed recurrence, so any resume that restores the wrong
// state, or any lost or duplicated step, shows up as a wrong value:
//   x_0 = 2 + 0.1 (seed mod 7);  x_s = x_{s-1} - 0.05 (x_{s-1} - 1) + 0.01 sin(s)
//   metrics at step s: "loss" = x_s, "lr" = 1e-3 x 0.5 (1 + cos(pi s / steps))
// Spec JSON: {"steps": N, "checkpoint_every": K, "step_ms": M, "seed": S,
//             "tokens_per_step": T, "fail_at_step": F (optional, throws there)}.
#pragma once

#include "jobs/JobRunner.h"

namespace lathe::jobs {

class SimulatedTrainRunner : public JobRunner
{
public:
    RunResult run(JobContext &context) override;
};

} // namespace lathe::jobs
