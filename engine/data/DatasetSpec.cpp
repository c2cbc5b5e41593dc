// DatasetSpec <-> JSON. Keys are snake_case like the rest of a run spec; unknown keys
// are errors so a typo ("validaton_ratio") never silently changes a run.
#include "data/DatasetSpec.h"

#include "data/DatasetFormat.h"

#include "core/Error.h"

#include <nlohmann/json.hpp>

#include <set>

namespace lathe {

namespace {

using json = nlohmann::json;

class Reader
{
public:
    Reader(const json &j, const std::string &where) : m_j(j), m_where(where)
    {
        if (!j.is_object())
            fail(where + ": expected an object");
    }
    const json *get(const std::string &key)
    {
        m_read.insert(key);
        const auto it = m_j.find(key);
        return it == m_j.end() ? nullptr : &*it;
    }
    [[noreturn]] void failAt(const std::string &key, const std::string &message) const
    {
        fail(m_where + "." + key + ": " + message);
    }
    void string(const std::string &key, std::string &out, const std::vector<std::string> &choices = {})
    {
        if (const json *v = get(key)) {
            if (!v->is_string())
                failAt(key, "expected a string");
            out = v->get<std::string>();
            if (!choices.empty() && std::find(choices.begin(), choices.end(), out) == choices.end()) {
                std::string list;
                for (const auto &c : choices)
                    list += (list.empty() ? "" : ", ") + c;
                failAt(key, "'" + out + "' is not one of " + list);
            }
        }
    }
    void boolean(const std::string &key, bool &out)
    {
        if (const json *v = get(key)) {
            if (!v->is_boolean())
                failAt(key, "expected true or false");
            out = v->get<bool>();
        }
    }
    void integer(const std::string &key, int64_t &out, int64_t lo)
    {
        if (const json *v = get(key)) {
            if (!v->is_number_integer())
                failAt(key, "expected an integer");
            const int64_t x = v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT64_MAX)
                                  ? INT64_MAX
                                  : v->get<int64_t>();
            if (x < lo)
                failAt(key, "must be >= " + std::to_string(lo) + ", got " + std::to_string(x));
            out = x;
        }
    }
    void finish() const
    {
        for (auto it = m_j.begin(); it != m_j.end(); ++it)
            if (!m_read.count(it.key()))
                fail(m_where + ": unknown key '" + it.key() + "'");
    }
    const std::string &where() const { return m_where; }

private:
    const json &m_j;
    std::string m_where;
    std::set<std::string> m_read;
};

} // namespace

DatasetSpec DatasetSpec::fromJson(const nlohmann::json &j, const std::string &where)
{
    DatasetSpec s;
    Reader r(j, where);
    r.string("path", s.path);
    std::vector<std::string> formats = {"auto"};
    formats.insert(formats.end(), formatNames().begin(), formatNames().end());
    r.string("format", s.format, formats);
    if (const json *m = r.get("field_map")) {
        if (!m->is_object())
            r.failAt("field_map", "expected an object of field names");
        for (auto it = m->begin(); it != m->end(); ++it) {
            if (!it.value().is_string())
                r.failAt("field_map." + it.key(), "expected a string");
            s.fieldMap[it.key()] = it.value().get<std::string>();
        }
        checkFieldMap(s.fieldMap, where);
    }
    r.string("chat_template", s.chatTemplate);
    if (s.chatTemplate.empty())
        r.failAt("chat_template", "empty (use \"model\" or a built-in name)");
    r.string("train_on", s.trainOn, {"assistant", "all", "last"});
    if (const json *v = r.get("validation_ratio")) {
        if (!v->is_number())
            r.failAt("validation_ratio", "expected a number");
        s.validationRatio = v->get<double>();
        if (!(s.validationRatio >= 0.0 && s.validationRatio < 1.0))
            r.failAt("validation_ratio", "must be in [0, 1), got " + std::to_string(s.validationRatio));
    }
    r.integer("validation_count", s.validationCount, 0);
    if (s.validationRatio > 0.0 && s.validationCount > 0)
        r.failAt("validation_count", "give validation_ratio or validation_count, not both");
    if (const json *v = r.get("seed")) {
        if (!v->is_number_integer() || (v->is_number_integer() && !v->is_number_unsigned() && v->get<int64_t>() < 0))
            r.failAt("seed", "expected an integer >= 0");
        s.seed = v->get<uint64_t>();
    }
    r.boolean("shuffle", s.shuffle);
    r.boolean("dedupe", s.dedupe);
    r.boolean("drop_invalid", s.dropInvalid);
    r.integer("max_length", s.maxLength, 0);
    r.string("cache_dir", s.cacheDir);
    r.string("overflow", s.overflow, {"truncate", "drop"});
    r.string("text_unit", s.textUnit, {"line", "paragraph"});
    r.boolean("append_eos", s.appendEos);
    r.integer("max_record_bytes", s.maxRecordBytes, 1);
    r.finish();
    return s;
}

nlohmann::json DatasetSpec::toJson() const
{
    json j = {{"path", path},
              {"format", format},
              {"field_map", json(fieldMap)},
              {"chat_template", chatTemplate},
              {"train_on", trainOn},
              {"validation_ratio", validationRatio},
              {"validation_count", validationCount},
              {"seed", seed},
              {"shuffle", shuffle},
              {"dedupe", dedupe},
              {"drop_invalid", dropInvalid},
              {"max_length", maxLength},
              {"cache_dir", cacheDir},
              {"overflow", overflow},
              {"text_unit", textUnit},
              {"append_eos", appendEos},
              {"max_record_bytes", maxRecordBytes}};
    return j;
}

} // namespace lathe
