// lathe-cli perplexity: PPL of a model over a text file (tokenized with the model's
// tokenizer) or a file of token ids, with the chunking protocol of engine/eval.
#include "CliCommon.h"
#include "Commands.h"
#include "core/Error.h"
#include "eval/Perplexity.h"
#include "infer/ModelTokenizer.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace lathe::cli {

namespace {

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail("cannot open " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Breaks lines at spaces so the protocol reads well in a terminal.
std::string wrap(const std::string &text, size_t width)
{
    std::string out, line;
    std::istringstream words(text);
    std::string w;
    while (words >> w) {
        if (!line.empty() && line.size() + 1 + w.size() > width) {
            out += line + "\n";
            line.clear();
        }
        line += (line.empty() ? "" : " ") + w;
    }
    return out + line;
}

} // namespace

int runPerplexity(const Args &argv)
{
    ArgParser args("perplexity", "MODEL (--file TEXT | --ids FILE) [--ctx N]",
                   "Computes the perplexity of MODEL over a text file (encoded with the model's tokenizer,\n"
                   "without BOS: the protocol puts one at the start of each window) or a file of\n"
                   "whitespace-separated token ids.");
    args.positional("MODEL", "GGUF file, Hugging Face folder or llama2.c .bin")
        .option("file", "TEXT", "UTF-8 text file")
        .option("ids", "FILE", "file of token ids")
        .option("ctx", "N", "window length n_ctx (capped to the model's context)", "512")
        .flag("no-bos", "keep each window's first token instead of replacing it with BOS")
        .option("max-chunks", "N", "evaluate at most N windows (0: all)", "0")
        .option("threads", "N", "CPU threads (0: all)", "0")
        .epilog("Protocol:\n" + wrap(kPerplexityProtocol, 88));
    if (!args.parse(argv))
        return 0;
    if (args.has("file") == args.has("ids"))
        throw UsageError("give exactly one of --file and --ids");
    int64_t nCtx = args.intValue("ctx", 4, 1 << 20);
    const int64_t maxChunks = args.intValue("max-chunks", 0, 1 << 30);
    const int threads = threadsOption(args);

    std::shared_ptr<const LoadedModel> model = openModel(args.positionalValue(0));
    std::vector<int32_t> tokens;
    if (args.has("ids")) {
        tokens = parseIds(readFile(args.value("ids")), args.value("ids"));
        for (int32_t id : tokens)
            if (id >= model->config.vocabSize)
                fail(args.value("ids") + ": id " + std::to_string(id) + " is outside the vocabulary of " +
                     std::to_string(model->config.vocabSize));
    } else {
        std::optional<Tokenizer> tokenizer = modelTokenizer(*model);
        if (!tokenizer)
            fail(args.positionalValue(0) + ": the model has no tokenizer this build can read; use --ids");
        EncodeOptions eo;
        eo.addSpecial = false; // the protocol places its own BOS at each window
        tokens = tokenizer->encode(readFile(args.value("file")), eo);
    }
    if (nCtx > model->config.contextLength) {
        spdlog::warn("--ctx {} exceeds the model's context {}; using {}", nCtx, model->config.contextLength,
                     model->config.contextLength);
        nCtx = model->config.contextLength;
    }
    if (maxChunks > 0)
        tokens.resize(std::min<size_t>(tokens.size(), size_t(maxChunks * nCtx)));

    SessionOptions so;
    so.contextLength = nCtx;
    Session session(model, openDevice(threads), so);
    PerplexityOptions po;
    po.nCtx = nCtx;
    po.addBos = !args.has("no-bos");
    std::printf("%zu tokens, n_ctx %lld, %lld windows\n", tokens.size(), (long long)nCtx,
                (long long)(int64_t(tokens.size()) / nCtx));
    const PerplexityResult r = computePerplexity(session, tokens, po, [](int64_t done, int64_t total) {
        std::fprintf(stderr, "\r[%lld/%lld]", (long long)done, (long long)total);
        return true;
    });
    std::fprintf(stderr, "\n");
    for (size_t i = 0; i < r.chunks.size(); ++i)
        std::printf("window %zu: ppl %.4f (%lld tokens scored)\n", i + 1, r.chunks[i].ppl,
                    (long long)r.chunks[i].tokensScored);
    std::printf("ppl = %.4f, mean nll = %.6f over %lld scored tokens\n", r.ppl, r.meanNll, (long long)r.tokensScored);
    return 0;
}

} // namespace lathe::cli
