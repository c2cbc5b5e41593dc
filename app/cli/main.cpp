// lathe-cli: the headless front end. Dispatches to one subcommand, sets up logging
// (spdlog on stderr, level from --log-level or LATHE_LOG), and turns every failure
// into a message and an exit code: 2 for bad arguments, 1 for engine errors.
#include "ArgParser.h"
#include "Commands.h"
#include "core/Error.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>

namespace {

using namespace lathe::cli;

struct Command
{
    const char *name;
    int (*run)(const Args &);
    const char *summary;
};

const Command kCommands[] = {
    {"info", runInfo, "describe a model file or preset: config, parameters, tensor types, memory"},
    {"init", runInit, "create a model with random weights as GGUF and/or a Hugging Face folder"},
    {"generate", runGenerate, "generate text (or token ids) from a prompt"},
    {"perplexity", runPerplexity, "perplexity of a model over a text or token-id file"},
    {"bench", runBench, "prefill and decode speed, weight bandwidth, matmul ISA; 'bench tokenizer': encode MB/s; 'bench train': training tokens/s, memory"},
    {"tokenize", runTokenize, "text to token ids (or pieces, a count, JSON) with a model's tokenizer"},
    {"template", runTemplate, "render a conversation with a model's or a built-in chat template"},
    {"train", runTrain, "fine-tune a model (LoRA, QLoRA or full) as a JSON run spec describes"},
    {"merge", runMerge, "fold a LoRA adapter into its base model and write the merged model"},
    {"data", runData, "datasets: inspect, validate, stats, prepare (tokenise, split, cache)"},
    {"runs", runRuns, "run history: list, show, export (metrics as CSV or JSON)"},
    {"jobs", runJobs, "the job queue: list, submit, cancel, pause, resume"},
    {"cost", runCost, "the cost ledger: report, card, compare, profiles, budget, power"},
    {"demo", runDemo, "self-contained demo: train a small model on a built-in corpus, text before and after, cost"},
};

void printUsage(FILE *out)
{
    std::fputs("Usage: lathe-cli COMMAND [OPTIONS]\n\nCommands:\n", out);
    for (const Command &c : kCommands)
        std::fprintf(out, "  %-12s %s\n", c.name, c.summary);
    std::fputs("\nRun 'lathe-cli COMMAND --help' for a command's options.\n", out);
}

// Takes --log-level out of the arguments (every command accepts it) and sets spdlog up.
void setupLogging(Args &args)
{
    std::string level = "warn";
    if (const char *env = std::getenv("LATHE_LOG"); env && *env)
        level = env;
    for (size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--log-level") {
            if (i + 1 >= args.size())
                throw UsageError("option --log-level needs a value (LEVEL)");
            level = args[i + 1];
            args.erase(args.begin() + long(i), args.begin() + long(i) + 2);
            break;
        }
        if (args[i].rfind("--log-level=", 0) == 0) {
            level = args[i].substr(12);
            args.erase(args.begin() + long(i));
            break;
        }
    }
    const spdlog::level::level_enum parsed = spdlog::level::from_str(level);
    if (parsed == spdlog::level::off && level != "off")
        throw UsageError("--log-level: unknown level '" + level + "' (trace, debug, info, warn, error, off)");
    auto logger = spdlog::stderr_color_mt("lathe");
    logger->set_pattern("[%H:%M:%S.%e] [%^%l%$] %v");
    spdlog::set_default_logger(logger);
    spdlog::set_level(parsed);
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        printUsage(stderr);
        return 2;
    }
    const std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        printUsage(stdout);
        return 0;
    }
    const Command *command = nullptr;
    for (const Command &c : kCommands)
        if (name == c.name)
            command = &c;
    if (!command) {
        std::fprintf(stderr, "lathe-cli: unknown command '%s'\n\n", name.c_str());
        printUsage(stderr);
        return 2;
    }
    Args args(argv + 2, argv + argc);
    try {
        setupLogging(args);
        return command->run(args);
    } catch (const UsageError &e) {
        std::fprintf(stderr, "lathe-cli %s: %s\n", name.c_str(), e.what());
        std::fprintf(stderr, "Try 'lathe-cli %s --help'.\n", name.c_str());
        return 2;
    } catch (const lathe::Error &e) {
        std::fflush(stdout);
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc &) {
        std::fflush(stdout);
        std::fprintf(stderr, "error: out of memory\n");
        return 1;
    } catch (const std::exception &e) {
        std::fflush(stdout);
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
