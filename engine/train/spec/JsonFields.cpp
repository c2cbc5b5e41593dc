// Checked field-by-field reading of spec objects (see JsonFields.h).
#include "train/spec/JsonFields.h"

#include "core/Error.h"

#include <cmath>
#include <sstream>

namespace lathe {

namespace {

std::string show(double v)
{
    std::ostringstream ss;
    ss << v;
    return ss.str();
}

} // namespace

JsonFields::JsonFields(const nlohmann::json &j, std::string where, std::string path)
    : m_json(j), m_where(std::move(where)), m_path(std::move(path))
{
    if (!j.is_object())
        fail(m_where + ": " + (m_path.empty() ? std::string("the document") : m_path) + " must be a JSON object");
}

std::string JsonFields::field(const std::string &key) const
{
    return m_where + ": " + (m_path.empty() ? key : m_path + "." + key);
}

void JsonFields::failAt(const std::string &key, const std::string &message) const
{
    fail(field(key) + ": " + message);
}

bool JsonFields::has(const std::string &key) const
{
    return m_json.contains(key) && !m_json.at(key).is_null();
}

const nlohmann::json *JsonFields::get(const std::string &key)
{
    m_read.insert(key);
    if (!has(key))
        return nullptr;
    return &m_json.at(key);
}

double JsonFields::number(const std::string &key, double def, double lo, double hi)
{
    const nlohmann::json *v = get(key);
    if (!v)
        return def;
    if (!v->is_number())
        failAt(key, "must be a number");
    const double d = v->get<double>();
    if (!std::isfinite(d) || d < lo || d > hi)
        failAt(key, "must be in [" + show(lo) + ", " + show(hi) + "], got " + show(d));
    return d;
}

int64_t JsonFields::integer(const std::string &key, int64_t def, int64_t lo, int64_t hi)
{
    const nlohmann::json *v = get(key);
    if (!v)
        return def;
    if (!v->is_number_integer()) {
        if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() &&
            std::abs(v->get<double>()) < 9e15)
            ; // 16.0 is accepted as 16
        else
            failAt(key, "must be an integer");
    }
    const double d = v->get<double>();
    if (d < double(lo) || d > double(hi))
        failAt(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + show(d));
    return v->is_number_integer() ? v->get<int64_t>() : int64_t(d);
}

uint64_t JsonFields::unsignedInteger(const std::string &key, uint64_t def)
{
    const nlohmann::json *v = get(key);
    if (!v)
        return def;
    if (v->is_number_unsigned())
        return v->get<uint64_t>();
    if (v->is_number_integer() && v->get<int64_t>() >= 0)
        return uint64_t(v->get<int64_t>());
    failAt(key, "must be a non-negative integer");
}

bool JsonFields::boolean(const std::string &key, bool def)
{
    const nlohmann::json *v = get(key);
    if (!v)
        return def;
    if (!v->is_boolean())
        failAt(key, "must be true or false");
    return v->get<bool>();
}

std::string JsonFields::string(const std::string &key, const std::string &def)
{
    const nlohmann::json *v = get(key);
    if (!v)
        return def;
    if (!v->is_string())
        failAt(key, "must be a string");
    return v->get<std::string>();
}

std::string JsonFields::choice(const std::string &key, const std::string &def, const std::vector<std::string> &choices)
{
    const std::string s = string(key, def);
    std::string list;
    for (const std::string &c : choices) {
        if (s == c)
            return s;
        list += (list.empty() ? "" : ", ") + c;
    }
    failAt(key, "'" + s + "' is not one of " + list);
}

void JsonFields::finish() const
{
    for (auto it = m_json.begin(); it != m_json.end(); ++it)
        if (!m_read.count(it.key()))
            failAt(it.key(), "unknown key");
}

std::string firstJsonDifference(const nlohmann::json &a, const nlohmann::json &b, const std::string &path)
{
    if (a.is_object() && b.is_object()) {
        std::set<std::string> keys;
        for (auto it = a.begin(); it != a.end(); ++it)
            keys.insert(it.key());
        for (auto it = b.begin(); it != b.end(); ++it)
            keys.insert(it.key());
        for (const std::string &k : keys) {
            const std::string sub = path.empty() ? k : path + "." + k;
            if (!a.contains(k) || !b.contains(k))
                return sub;
            if (std::string d = firstJsonDifference(a[k], b[k], sub); !d.empty())
                return d;
        }
        return {};
    }
    if (a == b)
        return {};
    return path.empty() ? std::string("(document)") : path;
}

} // namespace lathe
