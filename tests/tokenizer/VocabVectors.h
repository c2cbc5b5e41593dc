// Reads llama.cpp's tokenizer test vectors: a .inp file of texts separated by lines
// "__ggml_vocab_test__" (each text is followed by "\n__ggml_vocab_test__\n"), and a .out
// file with one line of space-separated ids (no BOS) per text.
#pragma once

#include "Fixtures.h"

#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace lathe::test {

struct VocabCase
{
    std::string text;
    std::vector<int32_t> ids;
};

inline std::vector<VocabCase> readVocabVectors(const std::string &inp, const std::string &out)
{
    const std::string texts = readText(inp);
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<VocabCase> cases;
    size_t pos = 0;
    while (pos < texts.size()) {
        const size_t next = texts.find(sep, pos);
        if (next == std::string::npos)
            break;
        cases.push_back({texts.substr(pos, next - pos), {}});
        pos = next + sep.size();
    }
    std::istringstream lines(readText(out));
    std::string line;
    size_t i = 0;
    while (std::getline(lines, line)) {
        if (i >= cases.size())
            throw std::runtime_error(out + ": more lines than texts");
        std::istringstream ids(line);
        int32_t id;
        while (ids >> id)
            cases[i].ids.push_back(id);
        ++i;
    }
    if (i != cases.size())
        throw std::runtime_error(out + ": " + std::to_string(i) + " lines for " + std::to_string(cases.size()) + " texts");
    return cases;
}

inline QString idsToString(const std::vector<int32_t> &ids)
{
    QStringList s;
    for (int32_t id : ids)
        s << QString::number(id);
    return s.join(' ');
}

} // namespace lathe::test
