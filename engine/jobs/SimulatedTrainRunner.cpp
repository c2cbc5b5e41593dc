// The simulated trainer (see SimulatedTrainRunner.h).
#include "jobs/SimulatedTrainRunner.h"

#include "core/Error.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace lathe::jobs {

namespace {

struct Spec
{
    int64_t steps = 100, checkpointEvery = 10, stepMs = 0, seed = 0, tokensPerStep = 512, failAtStep = -1;
};

int64_t field(const nlohmann::json &j, const char *name, int64_t def, int64_t lo, int64_t hi)
{
    if (!j.contains(name))
        return def;
    if (!j[name].is_number_integer())
        fail(std::string("simulated train spec: field ") + name + " must be an integer");
    const int64_t v = j[name].get<int64_t>();
    if (v < lo || v > hi)
        fail(std::string("simulated train spec: field ") + name + " = " + std::to_string(v) + " out of range " +
             std::to_string(lo) + ".." + std::to_string(hi));
    return v;
}

Spec parseSpec(const std::string &text)
{
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object())
        fail("simulated train spec: not a JSON object");
    Spec s;
    s.steps = field(j, "steps", s.steps, 1, 100000000);
    s.checkpointEvery = field(j, "checkpoint_every", s.checkpointEvery, 1, 100000000);
    s.stepMs = field(j, "step_ms", s.stepMs, 0, 60000);
    s.seed = field(j, "seed", s.seed, 0, INT64_MAX);
    s.tokensPerStep = field(j, "tokens_per_step", s.tokensPerStep, 0, 1 << 30);
    s.failAtStep = field(j, "fail_at_step", s.failAtStep, -1, INT64_MAX);
    return s;
}

// Writes text to path atomically and durably: temp file, fsync, rename, fsync folder.
void writeDurably(const std::string &path, const std::string &text)
{
    const std::string tmp = path + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        fail(tmp + ": cannot create: " + std::strerror(errno));
    const bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0)
        fail(path + ": cannot write the checkpoint: " + std::strerror(errno));
    const std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
    if (const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
}

void readCheckpoint(const std::string &path, int64_t expectStep, double &x)
{
    std::ifstream in(path);
    std::string magic, key1, key2, hex;
    int64_t step = -1;
    if (!(in >> magic >> key1 >> step >> key2 >> hex) || magic != "lathe-sim-checkpoint-v1" || key1 != "step" ||
        key2 != "x")
        fail(path + ": not a simulated-trainer checkpoint");
    if (step != expectStep)
        fail(path + ": holds step " + std::to_string(step) + ", the store says " + std::to_string(expectStep));
    x = std::strtod(hex.c_str(), nullptr);
}

} // namespace

RunResult SimulatedTrainRunner::run(JobContext &context)
{
    const Spec spec = parseSpec(context.job().specJson);
    int64_t step = 0;
    double x = 2.0 + 0.1 * double(spec.seed % 7);
    if (const auto ckpt = context.resumeFrom()) {
        readCheckpoint(ckpt->path, ckpt->step, x);
        step = ckpt->step;
    }
    const double flopsPerToken = 6.0 * 1e6; // as if a 1M-parameter model
    while (step < spec.steps) {
        if (!context.keepGoing())
            return RunResult::Stopped;
        if (spec.stepMs > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(spec.stepMs));
        ++step;
        if (step == spec.failAtStep)
            fail("simulated failure at step " + std::to_string(step));
        x = x - 0.05 * (x - 1.0) + 0.01 * std::sin(double(step));
        context.metric(step, "loss", x);
        context.metric(step, "lr", 1e-3 * 0.5 * (1.0 + std::cos(M_PI * double(step) / double(spec.steps))));
        const int64_t tokens = step * spec.tokensPerStep;
        context.totals(tokens, 0, double(tokens) * flopsPerToken);
        context.progress(double(step) / double(spec.steps),
                         "step " + std::to_string(step) + "/" + std::to_string(spec.steps));
        if (step % spec.checkpointEvery == 0 || step == spec.steps) {
            char text[128];
            std::snprintf(text, sizeof text, "lathe-sim-checkpoint-v1\nstep %lld\nx %a\n", (long long)step, x);
            const std::string path = context.workDir() + "/ckpt-" + std::to_string(step) + ".txt";
            writeDurably(path, text);
            if (!context.checkpointSaved(step, path, int64_t(std::strlen(text))) && step < spec.steps)
                return RunResult::Stopped;
        }
    }
    context.finalMetrics(nlohmann::json{{"final_loss", x}, {"steps", spec.steps}}.dump());
    return RunResult::Completed;
}

} // namespace lathe::jobs
