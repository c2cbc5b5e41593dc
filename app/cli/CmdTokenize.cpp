// lathe-cli tokenize: text -> token ids with a model's tokenizer or a tokenizer file, as
// ids, one piece per line, a count, or JSON. The text is taken byte for byte (a trailing
// newline from a file or a pipe is part of it), so the ids are what a prompt would get.
#include "CliCommon.h"
#include "Commands.h"
#include "tokenizer/Utf8Util.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace lathe::cli {

namespace {

// Code points in UTF-8 text (ill-formed bytes count one each, as the encoder's U+FFFD would).
size_t countChars(std::string_view text)
{
    size_t chars = 0;
    for (size_t i = 0; i < text.size(); ++chars) {
        const size_t n = tok::validSequenceLength(text, i);
        i += n > 0 ? n : 1;
    }
    return chars;
}

} // namespace

int runTokenize(const Args &argv)
{
    ArgParser args("tokenize", "(--model PATH | --tokenizer FILE) [--text TEXT | --file FILE] [OPTIONS]",
                   "Encodes text into token ids. The text comes from --text, --file, or standard input\n"
                   "(taken byte for byte: a trailing newline is part of it). BOS/EOS are added as the\n"
                   "tokenizer's own rules say, and special tokens such as <|im_start|> written in the\n"
                   "text are matched unless --no-special.");
    args.option("model", "PATH", "GGUF file, Hugging Face folder, or llama2.c checkpoint (tokenizer.bin beside it)")
        .option("tokenizer", "FILE", "tokenizer.json, SentencePiece .model, llama2.c tokenizer .bin, or GGUF vocab")
        .option("text", "TEXT", "the text to encode")
        .option("file", "FILE", "read the text from FILE ('-': standard input)")
        .flag("no-special", "encode special-token text as plain text instead of matching it")
        .flag("no-bos", "do not add a BOS token")
        .flag("pieces", "print one token per line: id, TAB, the token's bytes escaped (\\n, \\t, \\xNN)")
        .flag("count", "print only the token count and characters / bytes per token")
        .flag("json", "print {\"ids\", \"pieces\", \"tokens\", \"count\", \"bytes\", \"chars\"} as JSON");
    if (!args.parse(argv))
        return 0;
    if (args.has("model") == args.has("tokenizer"))
        throw UsageError("give exactly one of --model and --tokenizer");
    if (args.has("text") && args.has("file"))
        throw UsageError("give at most one of --text and --file");
    if (int(args.has("pieces")) + int(args.has("count")) + int(args.has("json")) > 1)
        throw UsageError("--pieces, --count and --json exclude each other");

    const Tokenizer tokenizer = tokenizerFromOptions(args);
    const std::string text = args.has("text") ? args.value("text") : readFileBytes(args.has("file") ? args.value("file") : "-");
    EncodeOptions options;
    options.parseSpecial = !args.has("no-special");
    if (args.has("no-bos"))
        options.addBos = false;
    const std::vector<int32_t> ids = tokenizer.encode(text, options);

    const size_t chars = countChars(text);
    const auto perToken = [&](size_t n) { return ids.empty() ? 0.0 : double(n) / double(ids.size()); };
    if (args.has("count")) {
        std::printf("%zu tokens (%zu bytes, %zu characters; %.3f bytes/token, %.3f characters/token)\n", ids.size(),
                    text.size(), chars, perToken(text.size()), perToken(chars));
    } else if (args.has("pieces")) {
        for (int32_t id : ids)
            std::printf("%d\t%s\n", id, escapeBytes(tokenizer.pieceBytes(id)).c_str());
    } else if (args.has("json")) {
        nlohmann::json j;
        j["ids"] = ids;
        nlohmann::json pieces = nlohmann::json::array(), tokens = nlohmann::json::array();
        for (int32_t id : ids) {
            pieces.push_back(escapeBytes(tokenizer.pieceBytes(id)));
            tokens.push_back(tokenizer.piece(id));
        }
        j["pieces"] = std::move(pieces);
        j["tokens"] = std::move(tokens);
        j["count"] = ids.size();
        j["bytes"] = text.size();
        j["chars"] = chars;
        // Vocabulary pieces of odd tokenizers may hold stray bytes; they become U+FFFD.
        std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
        std::printf("%s\n", joinIds(ids).c_str());
    }
    return 0;
}

} // namespace lathe::cli
