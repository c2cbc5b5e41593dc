// What several subcommands share: opening a model and a device, a tokenizer when the
// model has one, the weight statistics `info` and `bench` print, number formatting, and
// the dispatch of commands made of subcommands (jobs, runs, cost).
#pragma once

#include "ArgParser.h"
#include "backend/Device.h"
#include "model/LoadedModel.h"
#include "tokenizer/Tokenizer.h"

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lathe::cli {

std::shared_ptr<const LoadedModel> openModel(const std::string &path);
std::shared_ptr<Device> openDevice(int threads);
// Threads from --threads (0 or absent: all hardware threads).
int threadsOption(const ArgParser &args);

// Tokenizers without loading any weights (tokenize, template, bench tokenizer).
// A model path: a GGUF file (its vocabulary), a Hugging Face folder (tokenizer.json, else
// tokenizer.model) or a llama2.c checkpoint with tokenizer.bin beside it. Error naming
// the path when it carries no tokenizer.
Tokenizer tokenizerFromModelPath(const std::string &path);
// A tokenizer file: tokenizer.json (tokenizer_config.json beside it is read too), a
// SentencePiece *.model, a llama2.c tokenizer *.bin, or a GGUF file's vocabulary.
Tokenizer tokenizerFromFilePath(const std::string &path);
// The tokenizer named by a command's --tokenizer FILE, else by its --model PATH.
Tokenizer tokenizerFromOptions(const ArgParser &args);
// True when the file starts with the GGUF magic (false for folders and unreadable files).
bool isGgufFile(const std::string &path);

// The whole file as bytes; "-" reads standard input. Error naming the path.
std::string readFileBytes(const std::string &path);
// Bytes made printable on one line: \\, \n, \r, \t, \xNN for other control bytes and
// bytes that are not well-formed UTF-8; valid UTF-8 (spaces included) passes unchanged.
std::string escapeBytes(std::string_view bytes);
// "1 2 3": ids separated by single spaces.
std::string joinIds(const std::vector<int32_t> &ids);
// The test fixtures (../shared/fixtures): $LATHE_FIXTURES, else the folder configured at
// build time (LATHE_FIXTURES_DIR); empty when neither names an existing folder.
std::string fixturesDir();

struct WeightStats
{
    int64_t parameters = 0;
    int64_t tensorCount = 0;
    int64_t weightBytes = 0;
    std::map<std::string, int64_t> typeCounts; // "Q8_0" -> tensors
    std::map<std::string, int64_t> typeBytes;
    // Bytes one decoded token reads: every matrix once (the output head, or the tied
    // embedding as the head), one embedding row, and the norm/bias vectors.
    int64_t bytesPerDecodedToken = 0;
};
WeightStats weightStats(const ModelConfig &config, const Weights &weights);

// One subcommand of a command made of subcommands: its name and what runs it.
struct Subcommand
{
    const char *name;
    int (*run)(const std::vector<std::string> &args);
};
// Runs the subcommand argv[0] names with the arguments after it and returns its exit code.
// No arguments: usage on stderr, exit code 2; --help or -h: usage on stdout, 0; an unknown
// name: UsageError "unknown subcommand 'NAME' (a, b, c)" listing the names in order.
int dispatchSubcommand(const std::vector<std::string> &argv, const char *usage,
                       std::initializer_list<Subcommand> subcommands);

std::string humanBytes(double bytes); // "1.23 GiB"
std::string humanCount(double n);     // "151.2M"
std::string ropeLayoutName(RopeLayout layout);

} // namespace lathe::cli
