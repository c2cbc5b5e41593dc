// lathe-cli demo: the README's first command. Self-contained (no downloads, no test
// fixtures): creates a small random llama in $LATHE_HOME/demo (default
// ~/.cache/lathe/demo) if it is not there, then runs info, bench and generate on it,
// printing each step as the command a user would type.
#include "CliCommon.h"
#include "Commands.h"
#include "core/Error.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace lathe::cli {

namespace {

std::string demoDir(const ArgParser &args)
{
    if (args.has("dir"))
        return args.value("dir");
    if (const char *home = std::getenv("LATHE_HOME"); home && *home)
        return std::string(home) + "/demo";
    if (const char *home = std::getenv("HOME"); home && *home)
        return std::string(home) + "/.cache/lathe/demo";
    fail("neither LATHE_HOME nor HOME is set; give --dir");
}

int step(int n, const char *what, int (*run)(const Args &), const Args &a)
{
    std::string line;
    for (const std::string &s : a)
        line += " " + (s.find(' ') != std::string::npos ? "\"" + s + "\"" : s);
    std::printf("\n== [%d/4] %s\n$ lathe-cli%s\n", n, what, line.c_str());
    std::fflush(stdout);
    Args rest(a.begin() + 1, a.end());
    const int rc = run(rest);
    std::fflush(stdout);
    return rc;
}

} // namespace

int runDemo(const Args &argv)
{
    ArgParser args("demo", "[--dir DIR] [--fresh] [--threads N]",
                   "A tour that needs nothing but this binary: creates a small llama-shaped model with\n"
                   "random weights (3.4M parameters, Q8_0 GGUF, byte vocabulary), describes it, measures\n"
                   "its speed and generates a few tokens from ids. Random weights produce arbitrary\n"
                   "tokens: the point is the machinery, not the prose.");
    args.option("dir", "DIR", "where the demo model lives (default $LATHE_HOME/demo or ~/.cache/lathe/demo)")
        .flag("fresh", "recreate the model even if it exists")
        .option("threads", "N", "CPU threads (0: all)", "0");
    if (!args.parse(argv))
        return 0;
    const std::string threads = std::to_string(threadsOption(args));
    const std::string dir = demoDir(args);
    const std::string model = dir + "/demo-llama-3m-q8_0.gguf";
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        fail("cannot create " + dir + ": " + ec.message());
    std::printf("Lathe demo in %s\n", dir.c_str());

    int rc = 0;
    if (args.has("fresh") || !std::filesystem::exists(model)) {
        rc = step(1, "create a random llama model", runInit,
                  {"init", "--arch", "llama", "--dim", "256", "--layers", "4", "--heads", "8", "--kv-heads", "4",
                   "--ffn", "768", "--vocab", "512", "--context", "512", "--seed", "42", "--std", "0.05",
                   "--dtype", "q8_0", "--out-gguf", model});
    } else {
        std::printf("\n== [1/4] model exists (use --fresh to recreate): %s\n", model.c_str());
    }
    if (rc == 0)
        rc = step(2, "describe it", runInfo, {"info", model});
    if (rc == 0)
        rc = step(3, "measure speed", runBench,
                  {"bench", model, "--prompt", "64", "--gen", "32", "--repeat", "1", "--threads", threads});
    if (rc == 0)
        rc = step(4, "generate 16 tokens greedily from ids", runGenerate,
                  {"generate", model, "--prompt-ids", "1 300 301 302", "--max-tokens", "16", "--temp", "0",
                   "--print-ids", "--ignore-eos", "--threads", threads});
    if (rc == 0)
        std::printf("\nDone. Next: lathe-cli init --help, lathe-cli generate MODEL --prompt \"...\"\n");
    return rc;
}

} // namespace lathe::cli
