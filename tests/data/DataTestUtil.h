// Helpers the dataset tests share: the real tokenizers and templates from the fixtures,
// scratch files, and running the dataset pipeline to collect chosen records.
#pragma once

#include "Fixtures.h"

#include "data/DatasetPipeline.h"
#include "tokenizer/Tokenizer.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <set>
#include <string>
#include <vector>

namespace lathe::test {

inline Tokenizer fixtureTokenizer(const std::string &name)
{
    return Tokenizer::fromFile(fixture("tokenizers/" + name + "/tokenizer.json"));
}

inline std::string fixtureTemplate(const std::string &name)
{
    return chatTemplateFromConfig(fixture("tokenizers/" + name + "/tokenizer_config.json"));
}

inline std::string llamaFactory(const std::string &file)
{
    return fixture("datasets/llamafactory/" + file);
}

inline void writeFile(const std::string &path, const std::string &bytes)
{
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    QVERIFY2(out.good(), path.c_str());
}

inline std::string tempFile(const QTemporaryDir &dir, const std::string &name, const std::string &bytes)
{
    const std::string path = dir.filePath(QString::fromStdString(name)).toStdString();
    writeFile(path, bytes);
    return path;
}

// The accepted records at the given positions (in file order) of a pipeline pass.
inline std::vector<PipelineRecord> pickRecords(const DatasetSpec &spec, const Tokenizer *tokenizer,
                                               const std::string &modelTemplate, const std::set<size_t> &wanted,
                                               PipelineResult *result = nullptr)
{
    std::vector<PipelineRecord> out;
    size_t index = 0;
    PipelineResult r = runDatasetPipeline(spec, tokenizer, modelTemplate, [&](PipelineRecord &&p) {
        if (wanted.count(index++))
            out.push_back(std::move(p));
        return true;
    });
    if (result)
        *result = std::move(r);
    return out;
}

// The accepted records that start at the given lines.
inline std::vector<PipelineRecord> recordsAtLines(const DatasetSpec &spec, const Tokenizer *tokenizer,
                                                  const std::string &modelTemplate, const std::set<int64_t> &lines)
{
    std::vector<PipelineRecord> out;
    runDatasetPipeline(spec, tokenizer, modelTemplate, [&](PipelineRecord &&p) {
        if (lines.count(p.record.line))
            out.push_back(std::move(p));
        return true;
    });
    return out;
}

// The text of the tokens that carry loss, and of those that do not.
inline std::string targetText(const Tokenizer &t, const RenderedRecord &r, uint8_t which = 1)
{
    std::vector<int32_t> ids;
    for (size_t i = 0; i < r.ids.size(); ++i)
        if (r.mask[i] == which)
            ids.push_back(r.ids[i]);
    return t.decode(ids);
}

inline std::vector<std::string> spanTexts(const RenderedRecord &r)
{
    std::vector<std::string> out;
    for (const auto &[s, e] : r.targetSpans)
        out.push_back(r.text.substr(s, e - s));
    return out;
}

inline std::vector<std::string> issueTexts(const IssueList &issues)
{
    std::vector<std::string> out;
    for (const Issue &i : issues.items())
        out.push_back(i.text());
    return out;
}

} // namespace lathe::test
