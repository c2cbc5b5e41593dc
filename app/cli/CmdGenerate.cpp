// lathe-cli generate: one prompt in, tokens streamed to stdout as they are sampled
// (text when the model has a tokenizer, else ids); speed and stop reason on stderr.
#include "CliCommon.h"
#include "Commands.h"
#include "core/Error.h"
#include "infer/Generate.h"
#include "infer/ModelTokenizer.h"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace lathe::cli {

int runGenerate(const Args &argv)
{
    ArgParser args("generate", "MODEL (--prompt TEXT | --prompt-ids \"1 2 3\") [options]",
                   "Generates a continuation of the prompt and streams it to stdout (after the prompt text). Text prompts need a\n"
                   "tokenizer (a GGUF vocabulary or the folder's tokenizer.json); ids work with any model.\n"
                   "With --temp 0 the choice is greedy (highest logit, lowest id on ties).");
    args.positional("MODEL", "GGUF file, Hugging Face folder or llama2.c .bin")
        .option("prompt", "TEXT", "prompt text (BOS added as the tokenizer says)")
        .option("prompt-ids", "IDS", "prompt as token ids, e.g. \"1 403 407\" (used as given)")
        .option("max-tokens", "N", "most tokens to generate", "128")
        .option("temp", "X", "temperature; 0 is greedy", "0.8")
        .option("top-k", "N", "keep the k most likely tokens (0: off)", "40")
        .option("top-p", "X", "nucleus sampling mass (1: off)", "0.95")
        .option("min-p", "X", "drop tokens below min-p times the top probability (0: off)", "0.05")
        .option("repeat-penalty", "X", "repetition penalty (1: off)", "1.0")
        .option("presence-penalty", "X", "presence penalty (0: off)", "0")
        .option("frequency-penalty", "X", "frequency penalty (0: off)", "0")
        .option("penalty-window", "N", "recent tokens the penalties look at (-1: all)", "64")
        .option("seed", "N", "sampling seed", "0")
        .option("stop", "STR", "stop when this text is generated (needs a tokenizer)")
        .flag("ignore-eos", "do not stop at the model's end-of-sequence tokens")
        .flag("print-ids", "print the generated ids (one line) instead of text")
        .option("threads", "N", "CPU threads (0: all)", "0")
        .option("ctx", "N", "context length of the session (0: the model's)", "0");
    if (!args.parse(argv))
        return 0;
    if (args.has("prompt") == args.has("prompt-ids"))
        throw UsageError("give exactly one of --prompt and --prompt-ids");
    GenerateOptions options;
    options.maxTokens = int(args.intValue("max-tokens", 0, 1 << 24));
    options.sampler.temperature = float(args.doubleValue("temp", 0.0, 100.0));
    options.sampler.topK = int(args.intValue("top-k", 0, 1 << 24));
    options.sampler.topP = float(args.doubleValue("top-p", 0.0, 1.0));
    options.sampler.minP = float(args.doubleValue("min-p", 0.0, 1.0));
    options.sampler.repetitionPenalty = float(args.doubleValue("repeat-penalty", 0.01, 100.0));
    options.sampler.presencePenalty = float(args.doubleValue("presence-penalty", -100.0, 100.0));
    options.sampler.frequencyPenalty = float(args.doubleValue("frequency-penalty", -100.0, 100.0));
    options.sampler.penaltyWindow = int(args.intValue("penalty-window", -1, 1 << 24));
    options.sampler.seed = args.u64Value("seed");
    options.useModelStopIds = !args.has("ignore-eos");
    if (args.has("stop"))
        options.stopStrings.push_back(args.value("stop"));
    const int threads = threadsOption(args);
    const int64_t ctx = args.intValue("ctx", 0, 1 << 24);
    std::vector<int32_t> prompt;
    if (args.has("prompt-ids")) {
        prompt = parseIds(args.value("prompt-ids"), "--prompt-ids");
        if (prompt.empty())
            throw UsageError("--prompt-ids is empty");
    }

    std::shared_ptr<const LoadedModel> model = openModel(args.positionalValue(0));
    std::optional<Tokenizer> tokenizer = modelTokenizer(*model);
    if (args.has("prompt")) {
        if (!tokenizer)
            fail(args.positionalValue(0) + ": the model has no tokenizer this build can read; use --prompt-ids");
        prompt = tokenizer->encode(args.value("prompt"));
        if (prompt.empty())
            fail("the prompt encodes to no tokens");
    }
    for (int32_t id : prompt)
        if (id >= model->config.vocabSize)
            throw UsageError("--prompt-ids: id " + std::to_string(id) + " is outside the vocabulary of " +
                             std::to_string(model->config.vocabSize));
    if (!options.stopStrings.empty() && !tokenizer)
        throw UsageError("--stop needs a model with a tokenizer");

    SessionOptions so;
    so.contextLength = ctx;
    Session session(model, openDevice(threads), so);
    const bool printIds = args.has("print-ids") || !tokenizer;
    bool first = true;
    PieceDecoder decoder;
    std::optional<StreamDecoder> stream;
    if (tokenizer) {
        // Stop strings are matched on the raw piece bytes; the screen gets whole UTF-8
        // characters without SentencePiece's leading space.
        decoder = [&](int32_t id) { return tokenizer->pieceBytes(id); };
        stream.emplace(tokenizer->streamDecoder(true));
    }
    auto onToken = [&](int32_t id) {
        if (printIds)
            std::printf(first ? "%d" : " %d", id);
        else
            std::fputs(stream->feed(id).c_str(), stdout);
        first = false;
        std::fflush(stdout);
        return true;
    };
    if (!printIds && args.has("prompt")) { // the continuation reads on from the prompt
        std::fputs(args.value("prompt").c_str(), stdout);
        std::fflush(stdout);
    }
    const GenerateResult r = generate(session, prompt, options, decoder, onToken);
    if (!printIds)
        std::fputs(stream->flush().c_str(), stdout);
    std::printf("\n");
    std::fflush(stdout); // the summary on stderr comes after the text
    spdlog::info("stop: {}", stopReasonName(r.stopReason));
    std::fprintf(stderr, "[%lld prompt tokens, %.1f tok/s; %lld generated, %.1f tok/s; stop: %s]\n",
                 (long long)r.prefillTokens, r.prefillTokensPerSecond(), (long long)r.ids.size(),
                 r.decodeTokensPerSecond(), stopReasonName(r.stopReason));
    return 0;
}

} // namespace lathe::cli
