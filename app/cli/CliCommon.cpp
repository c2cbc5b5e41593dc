// Shared helpers for the subcommands (see CliCommon.h).
#include "CliCommon.h"

#include "backend/DeviceRegistry.h"
#include "core/Error.h"
#include "model/WeightNames.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>

namespace lathe::cli {

std::shared_ptr<const LoadedModel> openModel(const std::string &path)
{
    const auto t0 = std::chrono::steady_clock::now();
    auto model = std::make_shared<LoadedModel>(loadModel(path));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    spdlog::info("loaded {} ({} {}, {} tensors) in {:.3f} s", path, modelFormatName(model->format),
                 model->config.arch, model->weights.count(), s);
    return model;
}

std::shared_ptr<Device> openDevice(int threads)
{
    DeviceOptions options;
    options.threads = threads;
    std::shared_ptr<Device> device = DeviceRegistry().create("cpu", options);
    spdlog::info("device {}", device->name());
    return device;
}

int threadsOption(const ArgParser &args)
{
    return int(args.intValue("threads", 0, 1024));
}

WeightStats weightStats(const ModelConfig &config, const Weights &weights)
{
    WeightStats s;
    for (const std::string &name : weights.names()) {
        const TensorView &t = weights.get(name);
        s.parameters += t.numel();
        s.tensorCount += 1;
        s.weightBytes += int64_t(t.bytes);
        s.typeCounts[dtypeName(t.dtype)] += 1;
        s.typeBytes[dtypeName(t.dtype)] += int64_t(t.bytes);
        if (name == "token_embd.weight") {
            // Decoding reads one row of the table, and all of it when it is the head.
            s.bytesPerDecodedToken += config.tiedEmbeddings ? int64_t(t.bytes) : int64_t(t.bytes) / t.rows();
        } else {
            s.bytesPerDecodedToken += int64_t(t.bytes);
        }
    }
    return s;
}

int dispatchSubcommand(const std::vector<std::string> &argv, const char *usage,
                       std::initializer_list<Subcommand> subcommands)
{
    if (argv.empty() || argv[0] == "--help" || argv[0] == "-h") {
        std::fputs(usage, argv.empty() ? stderr : stdout);
        return argv.empty() ? 2 : 0;
    }
    const std::vector<std::string> rest(argv.begin() + 1, argv.end());
    std::string names;
    for (const Subcommand &sub : subcommands) {
        if (argv[0] == sub.name)
            return sub.run(rest);
        names += (names.empty() ? "" : ", ") + std::string(sub.name);
    }
    throw UsageError("unknown subcommand '" + argv[0] + "' (" + names + ")");
}

std::string humanBytes(double bytes)
{
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024.0 && u < 4) {
        bytes /= 1024.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
    return buf;
}

std::string humanCount(double n)
{
    const char *units[] = {"", "K", "M", "B"};
    int u = 0;
    while (n >= 1000.0 && u < 3) {
        n /= 1000.0;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f%s" : "%.2f%s", n, units[u]);
    return buf;
}

std::string ropeLayoutName(RopeLayout layout)
{
    return layout == RopeLayout::Interleaved ? "interleaved" : "rotate-half";
}

} // namespace lathe::cli
