// Shared helpers of the trainer tests: the real stories260K model with its tok512
// vocabulary, datasets built from real text fixtures, a small LoRA run spec, and the
// message of an expected lathe::Error.
#pragma once

#include "Fixtures.h"
#include "core/Error.h"
#include "data/DatasetSpec.h"
#include "model/LoadedModel.h"
#include "model/gguf/GgufVocab.h"
#include "tokenizer/Tokenizer.h"
#include "train/spec/RunSpec.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace lathe::test {

inline std::string storiesPath()
{
    return fixture("models/stories260K/stories260Ktok512.gguf");
}

// The message of the lathe::Error that fn throws; empty when it throws none (any other
// exception propagates, failing the test).
inline std::string errorOf(const std::function<void()> &fn)
{
    try {
        fn();
    } catch (const Error &e) {
        return e.what();
    }
    return {};
}

inline std::shared_ptr<const LoadedModel> storiesModel()
{
    return std::make_shared<const LoadedModel>(loadModel(storiesPath()));
}

inline Tokenizer storiesTokenizer(const LoadedModel &m)
{
    return Tokenizer::fromGgufVocab(ggufVocab(*m.gguf));
}

// Non-empty lines of a text fixture, each cut to at most maxChars characters at a space.
inline std::vector<std::string> textLines(const std::string &relative, size_t count, size_t maxChars)
{
    std::istringstream in(readText(fixture(relative)));
    std::vector<std::string> out;
    std::string line;
    while (out.size() < count && std::getline(in, line)) {
        if (line.size() < 20)
            continue;
        if (line.size() > maxChars) {
            const size_t cut = line.rfind(' ', maxChars);
            line = line.substr(0, cut == std::string::npos ? maxChars : cut);
        }
        out.push_back(line);
    }
    return out;
}

// Each text as one record with BOS; every token after the first carries loss.
inline TokenizedDataset tokenize(const Tokenizer &tok, const std::vector<std::string> &texts)
{
    TokenizedDataset d;
    for (const std::string &t : texts) {
        const std::vector<int32_t> ids = tok.encode(t);
        d.append(ids, std::vector<uint8_t>(ids.size(), 1));
    }
    return d;
}

// Prompt/completion records: the prompt (with BOS) carries no loss, every completion
// token does.
inline TokenizedDataset tokenizePairs(const Tokenizer &tok, const std::vector<std::pair<std::string, std::string>> &pairs)
{
    TokenizedDataset d;
    EncodeOptions plain;
    plain.addSpecial = false;
    for (const auto &[prompt, completion] : pairs) {
        std::vector<int32_t> ids = tok.encode(prompt);
        std::vector<uint8_t> mask(ids.size(), 0);
        const std::vector<int32_t> c = tok.encode(completion, plain);
        ids.insert(ids.end(), c.begin(), c.end());
        mask.resize(ids.size(), 1);
        d.append(ids, mask);
    }
    return d;
}

// Contiguous windows of `length` tokens of ids (the last partial one dropped).
inline TokenizedDataset windows(const std::vector<int32_t> &ids, size_t begin, size_t end, size_t length)
{
    TokenizedDataset d;
    for (size_t at = begin; at + length <= end; at += length) {
        std::vector<int32_t> w(ids.begin() + long(at), ids.begin() + long(at + length));
        d.append(w, std::vector<uint8_t>(w.size(), 1));
    }
    return d;
}

// Every line of a text fixture as one article; each article is cut into windows of
// `length` tokens: BOS followed by the next length-1 tokens of the article (a shorter
// tail window is kept when it has at least 16 tokens). Every token after BOS carries loss.
inline TokenizedDataset articleWindows(const Tokenizer &tok, const std::vector<std::string> &articles, size_t length)
{
    TokenizedDataset d;
    EncodeOptions plain;
    plain.addSpecial = false;
    for (const std::string &a : articles) {
        const std::vector<int32_t> ids = tok.encode(a, plain);
        for (size_t at = 0; at < ids.size(); at += length - 1) {
            const size_t n = std::min(length - 1, ids.size() - at);
            if (n < 16)
                break;
            std::vector<int32_t> w{tok.bosId()};
            w.insert(w.end(), ids.begin() + long(at), ids.begin() + long(at + n));
            std::vector<uint8_t> mask(w.size(), 1);
            mask[0] = 0;
            d.append(w, mask);
        }
    }
    return d;
}

inline std::vector<std::string> allLines(const std::string &relative)
{
    std::istringstream in(readText(fixture(relative)));
    std::vector<std::string> out;
    std::string line;
    while (std::getline(in, line))
        if (!line.empty())
            out.push_back(line);
    return out;
}

// LoRA on every linear layer of stories260K, constant lr, no checkpoints.
inline RunSpec loraSpec(int rank, double lr, int64_t steps)
{
    RunSpec s;
    s.model = storiesPath();
    s.mode = TrainMode::Lora;
    s.adapter.rank = rank;
    s.adapter.alpha = 2.0 * rank;
    s.adapter.targets = loraModuleNames();
    s.optimizer.lr = lr;
    s.optimizer.weightDecay = 0.0;
    s.gradClip = 1.0;
    s.schedule = ScheduleKind::Constant;
    s.steps = steps;
    s.batch.microBatch = 4;
    s.batch.seqLen = 64;
    s.batch.gradAccum = 1;
    s.batch.packing = true;
    s.seed = 1;
    s.threads = 2;
    return s;
}

} // namespace lathe::test
