// libFuzzer target: the dataset pipeline (engine/data) on arbitrary files. The input is
// the file; its first byte picks the reader as a user's file name would: '[' a JSON array
// (.json), '{' JSON Lines (.jsonl), else a first line with a tab TSV, with a comma CSV,
// otherwise plain text. A hash of the input picks the options: format "auto" or a forced
// one (so every converter meets every layout), line or paragraph text units, a small
// record-size limit, dedupe, truncation, and whether a tiny tokenizer and a built-in chat
// template render the records (ChatRenderer, Jinja, offset recovery). The readers stream
// from disk, so the input is written to a temp file.
// runDatasetPipeline promises never to throw for bad data: any exception, crash,
// sanitizer report, huge allocation or timeout is a bug, as is a rendered record whose
// ids and loss mask differ in length.
#include "core/Error.h"
#include "data/DatasetPipeline.h"
#include "tokenizer/Tokenizer.h"
#include "tokenizer/chat/ChatTemplate.h"

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace {

// UTF-8 of a code point below U+0800 (all the GPT-2 byte alphabet needs).
std::string utf8(uint32_t cp)
{
    if (cp < 0x80)
        return std::string(1, char(cp));
    return {char(0xC0 | (cp >> 6)), char(0x80 | (cp & 0x3F))};
}

std::string jsonString(const std::string &s)
{
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\')
            out.push_back('\\');
        out.push_back(c);
    }
    return out + "\"";
}

// A byte-level BPE with the whole GPT-2 byte alphabet (so any text encodes), a few
// merges, and the control tokens the built-in templates print.
const lathe::Tokenizer &tinyTokenizer()
{
    static const lathe::Tokenizer tok = [] {
        std::string vocab;
        int id = 0, shifted = 0;
        for (int b = 0; b < 256; ++b) {
            const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
            const uint32_t cp = printable ? uint32_t(b) : uint32_t(256 + shifted++);
            vocab += (vocab.empty() ? "" : ",") + jsonString(utf8(cp)) + ":" + std::to_string(id++);
        }
        const char *merged[] = {"he", "\xC4\xA0t", "\xC4\xA0the"};
        for (const char *m : merged)
            vocab += "," + jsonString(m) + ":" + std::to_string(id++);
        std::string added;
        for (const char *s : {"<|im_start|>", "<|im_end|>", "<s>", "</s>", "<|begin_of_text|>", "<|eot_id|>",
                              "<|start_header_id|>", "<|end_header_id|>", "<|end_of_text|>"})
            added += std::string(added.empty() ? "" : ",") + "{\"id\":" + std::to_string(id++) +
                     ",\"content\":" + jsonString(s) + ",\"special\":true}";
        const std::string json = "{\"model\":{\"type\":\"BPE\",\"vocab\":{" + vocab +
                                 "},\"merges\":[\"h e\",\"\xC4\xA0 t\",\"\xC4\xA0t he\"]},"
                                 "\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,"
                                 "\"use_regex\":true},\"decoder\":{\"type\":\"ByteLevel\"},\"added_tokens\":[" +
                                 added + "]}";
        const std::string config = R"({"bos_token":"<s>","eos_token":"</s>","add_bos_token":true})";
        return lathe::Tokenizer::fromTokenizerJson(json, config);
    }();
    return tok;
}

const char *extensionFor(std::string_view bytes)
{
    if (bytes.empty())
        return ".txt";
    if (bytes[0] == '[')
        return ".json";
    if (bytes[0] == '{')
        return ".jsonl";
    const std::string_view firstLine = bytes.substr(0, bytes.find('\n'));
    if (firstLine.find('\t') != std::string_view::npos)
        return ".tsv";
    if (firstLine.find(',') != std::string_view::npos)
        return ".csv";
    return ".txt";
}

uint64_t fnv1a(std::string_view bytes)
{
    uint64_t h = 1469598103934665603ull;
    for (char c : bytes)
        h = (h ^ uint8_t(c)) * 1099511628211ull;
    return h;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char *>(data), size);
    static const std::string kDir = std::filesystem::temp_directory_path().string();
    const std::string path = kDir + "/lathe_fuzz_dataset_" + std::to_string(getpid()) + extensionFor(bytes);
    {
        std::FILE *f = std::fopen(path.c_str(), "wb");
        if (!f)
            return 0;
        const bool ok = size == 0 || std::fwrite(data, 1, size, f) == size;
        if (std::fclose(f) != 0 || !ok)
            return 0;
    }

    uint64_t sel = fnv1a(bytes);
    const auto pick = [&sel](uint64_t n) {
        const uint64_t v = sel % n;
        sel /= n;
        return size_t(v);
    };
    lathe::DatasetSpec spec;
    spec.path = path;
    const std::vector<std::string> &formats = lathe::formatNames();
    const size_t f = pick(formats.size() * 2); // "auto" half the time
    spec.format = f < formats.size() ? formats[f] : "auto";
    spec.textUnit = pick(2) ? "paragraph" : "line";
    spec.maxRecordBytes = pick(4) == 0 ? 256 : int64_t(16) << 20;
    spec.dedupe = pick(2) != 0;
    const bool tokenize = pick(2) != 0;
    const std::vector<std::string> templates = lathe::ChatTemplate::builtinNames();
    spec.chatTemplate = templates[pick(templates.size())];
    static const char *const kTrainOn[] = {"assistant", "last", "all"};
    spec.trainOn = kTrainOn[pick(3)];
    spec.maxLength = pick(4) == 0 ? 64 : 0;
    spec.overflow = pick(2) ? "truncate" : "drop";
    spec.appendEos = pick(2) != 0;

    lathe::PipelineOptions options;
    options.sampleSize = 50;
    lathe::PipelineResult res = lathe::runDatasetPipeline(
        spec, tokenize ? &tinyTokenizer() : nullptr, "", [&](lathe::PipelineRecord &&r) {
            if (r.chosen.ids.size() != r.chosen.mask.size() || r.rejected.ids.size() != r.rejected.mask.size())
                __builtin_trap();
            (void)r.record.toJson().dump();
            return true;
        },
        options);
    spec.validationRatio = 0.1;
    lathe::finishStats(spec, res);
    for (const lathe::Issue &i : res.issues.items())
        (void)i.text();
    std::remove(path.c_str());
    return 0;
}
