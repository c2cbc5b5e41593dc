// lathe-cli bench: prefill and decode throughput of a model on the CPU device, and the
// weight bandwidth decode implies (every matrix is read once per decoded token, so
// bytes/token x tokens/s is the memory traffic the matmuls sustain).
#include "CliCommon.h"
#include "Commands.h"
#include "backend/cpu/CpuDevice.h"
#include "backend/cpu/CpuMatmul.h"
#include "infer/Session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace lathe::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct Run
{
    double prefillTps = 0, decodeTps = 0;
};

int32_t argmax(const std::vector<float> &logits)
{
    return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

Run runOnce(Session &session, const std::vector<int32_t> &prompt, int gen)
{
    session.reset();
    Run r;
    auto t0 = Clock::now();
    int32_t next = argmax(session.prefill(prompt));
    r.prefillTps = double(prompt.size()) / std::chrono::duration<double>(Clock::now() - t0).count();
    t0 = Clock::now();
    for (int i = 0; i < gen; ++i)
        next = argmax(session.decode(next));
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    r.decodeTps = gen > 0 ? double(gen) / s : 0.0;
    return r;
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : (v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]));
}

} // namespace

int runBench(const Args &argv)
{
    if (!argv.empty() && argv[0] == "tokenizer")
        return runBenchTokenizer(Args(argv.begin() + 1, argv.end()));
    if (!argv.empty() && argv[0] == "train")
        return runBenchTrain(Args(argv.begin() + 1, argv.end()));
    if (!argv.empty() && argv[0] == "store")
        return runBenchStore(Args(argv.begin() + 1, argv.end()));
    ArgParser args("bench", "MODEL [--prompt N] [--gen N] [--threads N] [--repeat N]",
                   "Measures prefill (one batch of N prompt tokens) and decode (one token at a time, greedy)\n"
                   "speed on the CPU device, after one untimed warm-up run. Prints the median over the\n"
                   "repeats, the bytes of weights each decoded token reads, the bandwidth that implies,\n"
                   "the matmul instruction set in use and the thread count.");
    args.positional("MODEL", "GGUF file, Hugging Face folder or llama2.c .bin")
        .option("prompt", "N", "prompt tokens (random ids)", "128")
        .option("gen", "N", "decoded tokens", "64")
        .option("threads", "N", "CPU threads (0: all)", "0")
        .option("repeat", "N", "timed runs", "3")
        .option("seed", "N", "seed of the random prompt", "1")
        .epilog("'lathe-cli bench tokenizer' measures tokenizer encode speed instead (see its --help).");
    if (!args.parse(argv))
        return 0;
    const int promptLen = int(args.intValue("prompt", 1, 1 << 20));
    const int gen = int(args.intValue("gen", 0, 1 << 20));
    const int repeat = int(args.intValue("repeat", 1, 1000));
    const int threads = threadsOption(args);
    uint64_t seed = args.u64Value("seed");

    std::shared_ptr<const LoadedModel> model = openModel(args.positionalValue(0));
    const ModelConfig &c = model->config;
    const WeightStats ws = weightStats(c, model->weights);
    std::vector<int32_t> prompt(static_cast<size_t>(promptLen));
    for (int32_t &id : prompt) { // splitmix64: ids reproducible from the seed
        uint64_t z = (seed += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        id = int32_t((z ^ (z >> 31)) % uint64_t(c.vocabSize));
    }
    std::shared_ptr<Device> device = openDevice(threads);
    const auto *cpuDevice = dynamic_cast<const CpuDevice *>(device.get());
    SessionOptions so;
    so.contextLength = int64_t(promptLen) + gen + 1;
    Session session(model, device, so);

    std::string types;
    for (const auto &[type, count] : ws.typeCounts)
        types += (types.empty() ? "" : ", ") + type + " x" + std::to_string(count);
    std::printf("model:        %s (%s %s, %s parameters; %s)\n", args.positionalValue(0).c_str(),
                modelFormatName(model->format), c.arch.c_str(), humanCount(double(ws.parameters)).c_str(),
                types.c_str());
    std::printf("device:       %s, %d threads, matmul ISA %s, precision %s\n",
                device->name().c_str(), cpuDevice ? cpuDevice->threads() : threads, cpu::matmulIsa(),
                cpuDevice ? cpu::matmulPrecisionName(cpuDevice->matmulPrecision()) : "device");
    std::fflush(stdout);

    runOnce(session, std::vector<int32_t>(prompt.begin(), prompt.begin() + std::min(promptLen, 8)),
            std::min(gen, 2)); // warm-up: page in the weights, size the scratch buffers
    std::vector<double> prefill, decode;
    for (int i = 0; i < repeat; ++i) {
        const Run r = runOnce(session, prompt, gen);
        spdlog::info("run {}: prefill {:.2f} tok/s, decode {:.2f} tok/s", i + 1, r.prefillTps, r.decodeTps);
        prefill.push_back(r.prefillTps);
        decode.push_back(r.decodeTps);
    }
    const double p = median(prefill), d = median(decode);
    std::printf("prefill:      %d tokens, %.2f tokens/s (median of %d)\n", promptLen, p, repeat);
    if (gen > 0) {
        std::printf("decode:       %d tokens, %.2f tokens/s, %.2f ms/token (median of %d)\n", gen, d, 1000.0 / d,
                    repeat);
        std::printf("weights read: %s per decoded token\n", humanBytes(double(ws.bytesPerDecodedToken)).c_str());
        std::printf("bandwidth:    %.2f GB/s implied by decode\n", double(ws.bytesPerDecodedToken) * d / 1e9);
    }
    return 0;
}

} // namespace lathe::cli
