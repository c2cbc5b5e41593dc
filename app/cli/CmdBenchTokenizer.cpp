// lathe-cli bench tokenizer: single-thread encode throughput of one or more tokenizers on
// a text file, in MB/s of input and tokens/s, with tokens per byte. Each tokenizer encodes
// the whole file once untimed (and must decode back to it), then --repeat timed times;
// the best and the median run are reported.
#include "CliCommon.h"
#include "Commands.h"
#include "core/Error.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

namespace lathe::cli {

namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

double medianOf(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v.empty() ? 0.0 : (v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]));
}

std::string cpuModel()
{
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("model name", 0) == 0)
            if (const size_t colon = line.find(':'); colon != std::string::npos)
                return line.substr(colon + 2);
    return "unknown CPU";
}

} // namespace

int runBenchTokenizer(const Args &argv)
{
    ArgParser args("bench tokenizer", "[--tokenizer FILE]... [--model PATH]... [--file TEXT] [--repeat N]",
                   "Measures single-thread encode speed: MB/s of input text, tokens/s and tokens per\n"
                   "byte, best and median over the timed runs, after one untimed run that also checks\n"
                   "that the ids decode back to the text. Defaults: the Llama 3 and Qwen tokenizer.json\n"
                   "and datasets/llamafactory/wiki_demo.txt from the test fixtures ($LATHE_FIXTURES).");
    args.option("tokenizer", "FILE", "tokenizer file or GGUF (repeat the option for several)")
        .option("model", "PATH", "a model's tokenizer (GGUF, Hugging Face folder); repeatable")
        .option("file", "FILE", "the text to encode")
        .option("repeat", "N", "timed runs per tokenizer", "5")
        .flag("no-special", "encode special-token text as plain text");
    if (!args.parse(argv))
        return 0;
    const int repeat = int(args.intValue("repeat", 1, 1000));
    std::vector<std::pair<std::string, bool>> sources; // path, is a model path
    for (const std::string &t : args.values("tokenizer"))
        sources.emplace_back(t, false);
    for (const std::string &m : args.values("model"))
        sources.emplace_back(m, true);
    std::string file = args.value("file");
    if (sources.empty() || file.empty()) {
        const std::string fx = fixturesDir();
        if (fx.empty())
            throw UsageError("no test fixtures found (set LATHE_FIXTURES); give --tokenizer and --file");
        if (sources.empty())
            for (const char *t : {"tokenizers/llama3/tokenizer.json", "tokenizers/qwen/tokenizer.json"})
                sources.emplace_back(fx + "/" + t, false);
        if (file.empty())
            file = fx + "/datasets/llamafactory/wiki_demo.txt";
    }
    const std::string text = readFileBytes(file);
    if (text.empty())
        fail(file + ": is empty");
    std::printf("text:   %s (%.2f MB)\n", file.c_str(), double(text.size()) / 1e6);
    std::printf("cpu:    %s, 1 thread, %d timed runs each\n", cpuModel().c_str(), repeat);
    std::fflush(stdout);

    EncodeOptions options;
    options.parseSpecial = !args.has("no-special");
    for (const auto &[path, isModel] : sources) {
        auto t0 = Clock::now();
        const Tokenizer tokenizer = isModel ? tokenizerFromModelPath(path) : tokenizerFromFilePath(path);
        const double loadS = seconds(t0);
        t0 = Clock::now();
        const std::vector<int32_t> ids = tokenizer.encode(text, options);
        const double firstS = seconds(t0);
        const std::string back = tokenizer.decode(ids, true);
        std::vector<double> mbps;
        for (int i = 0; i < repeat; ++i) {
            t0 = Clock::now();
            const size_t n = tokenizer.encode(text, options).size();
            const double s = seconds(t0);
            if (n != ids.size())
                fail(path + ": encoding the same text twice gave " + std::to_string(ids.size()) + " and " +
                     std::to_string(n) + " tokens");
            mbps.push_back(double(text.size()) / 1e6 / s);
        }
        const double best = *std::max_element(mbps.begin(), mbps.end()), med = medianOf(mbps);
        const double tokensPerByte = double(ids.size()) / double(text.size());
        std::printf("\n%s\n", path.c_str());
        std::printf("  vocab %d, loaded in %.2f s; %zu tokens, %.4f tokens/byte (%.2f bytes/token)\n",
                    tokenizer.vocabSize(), loadS, ids.size(), tokensPerByte, 1.0 / tokensPerByte);
        std::printf("  encode: best %.2f MB/s (%.0f tokens/s), median %.2f MB/s (%.0f tokens/s); first run %.2f MB/s\n",
                    best, best * 1e6 * tokensPerByte, med, med * 1e6 * tokensPerByte,
                    double(text.size()) / 1e6 / firstS);
        // The text holds no special tokens, so a lossless tokenizer gives it back exactly.
        std::printf("  round trip: %s\n", back == text ? "decode(encode(text)) == text" : "differs from the text (the tokenizer normalises it)");
        std::fflush(stdout);
    }
    return 0;
}

} // namespace lathe::cli
