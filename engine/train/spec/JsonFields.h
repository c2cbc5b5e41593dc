// JsonFields: reads one JSON object of a spec field by field, checking types and ranges,
// and refuses keys nobody read, so a typo ("learning_rat") is an error rather than a
// silently ignored setting. Every message names the document and the dotted field path:
// "spec.json: optimizer.lr: must be > 0, got -0.001".
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace lathe {

class JsonFields
{
public:
    // where: the document ("spec.json"); path: the dotted path of this object ("" at the top).
    // Throws Error when j is not an object.
    JsonFields(const nlohmann::json &j, std::string where, std::string path);

    bool has(const std::string &key) const;
    // The value, marked as read; nullptr when absent.
    const nlohmann::json *get(const std::string &key);

    // Typed readers: absent keys give def; a wrong type or a value outside [lo, hi] throws.
    double number(const std::string &key, double def, double lo, double hi);
    int64_t integer(const std::string &key, int64_t def, int64_t lo, int64_t hi);
    uint64_t unsignedInteger(const std::string &key, uint64_t def);
    bool boolean(const std::string &key, bool def);
    std::string string(const std::string &key, const std::string &def);
    // One of choices (case-sensitive).
    std::string choice(const std::string &key, const std::string &def, const std::vector<std::string> &choices);

    // Throws naming the first key that was never read.
    void finish() const;

    // "where: path.key" for messages about a value read elsewhere.
    std::string field(const std::string &key) const;
    [[noreturn]] void failAt(const std::string &key, const std::string &message) const;

private:
    const nlohmann::json &m_json;
    std::string m_where, m_path;
    std::set<std::string> m_read;
};

// The dotted path of the first place where a and b differ ("" when equal), e.g.
// "optimizer.lr" or "adapter.targets".
std::string firstJsonDifference(const nlohmann::json &a, const nlohmann::json &b, const std::string &path = {});

} // namespace lathe
