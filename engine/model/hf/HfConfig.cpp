// config.json parsing (see HfConfig.h). Typed field access lives here so that every
// message names the field and what was found instead.
#include "model/hf/HfConfig.h"

#include "core/Error.h"
#include "model/ArchSpec.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

namespace lathe {

namespace {

using Json = nlohmann::json;

constexpr std::uintmax_t kMaxJsonFileBytes = 64u << 20;

std::string describe(const Json &v)
{
    std::string s = v.dump();
    if (s.size() > 40)
        s = s.substr(0, 40) + "...";
    return std::string(v.type_name()) + " " + s;
}

// A field that is absent or null reads as "not given".
const Json *field(const Json &obj, const char *key)
{
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

[[noreturn]] void badField(const char *key, const char *expected, const Json &v)
{
    fail(std::string("field ") + key + ": expected " + expected + ", got " + describe(v));
}

int64_t toInt(const char *key, const Json &v)
{
    if (v.is_number_integer())
        return v.get<int64_t>(); // also unsigned values up to INT64_MAX; larger fail below
    if (v.is_number_float() && std::isfinite(v.get<double>()) && v.get<double>() == std::floor(v.get<double>()) &&
        std::fabs(v.get<double>()) < 1e15)
        return int64_t(v.get<double>());
    badField(key, "an integer", v);
}

int getInt(const Json &obj, const char *key, std::optional<int> fallback = std::nullopt)
{
    const Json *v = field(obj, key);
    if (!v) {
        if (fallback)
            return *fallback;
        fail(std::string("field ") + key + " is missing");
    }
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(INT_MAX))
        badField(key, "an integer below 2^31", *v);
    const int64_t i = toInt(key, *v);
    if (i < INT_MIN || i > INT_MAX)
        badField(key, "an integer that fits in 32 bits", *v);
    return int(i);
}

double getFloat(const Json &obj, const char *key, double fallback)
{
    const Json *v = field(obj, key);
    if (!v)
        return fallback;
    if (!v->is_number() || !std::isfinite(v->get<double>()))
        badField(key, "a number", *v);
    return v->get<double>();
}

bool getBool(const Json &obj, const char *key, bool fallback)
{
    const Json *v = field(obj, key);
    if (!v)
        return fallback;
    if (!v->is_boolean())
        badField(key, "true or false", *v);
    return v->get<bool>();
}

// bos/eos ids are an int or a list of ints (several stop tokens).
std::vector<int> getIdList(const Json &obj, const char *key)
{
    const Json *v = field(obj, key);
    if (!v)
        return {};
    std::vector<int> ids;
    auto add = [&](const Json &x) {
        const int64_t id = toInt(key, x);
        if (id < 0 || id > INT_MAX)
            badField(key, "a token id", x);
        ids.push_back(int(id));
    };
    if (v->is_array()) {
        for (const Json &x : *v)
            add(x);
    } else {
        add(*v);
    }
    return ids;
}

RopeScaling parseRopeScaling(const Json &obj)
{
    RopeScaling r;
    const Json *v = field(obj, "rope_scaling");
    if (!v)
        return r;
    if (!v->is_object())
        badField("rope_scaling", "an object or null", *v);
    std::string type;
    for (const char *k : {"rope_type", "type"})
        if (const Json *t = field(*v, k); t && type.empty()) {
            if (!t->is_string())
                badField("rope_scaling.type", "a string", *t);
            type = t->get<std::string>();
        }
    if (type == "default")
        return r;
    if (type == "linear") {
        r.kind = RopeScaling::Kind::Linear;
        r.factor = float(getFloat(*v, "factor", 1.0));
    } else if (type == "llama3") {
        r.kind = RopeScaling::Kind::Llama3;
        r.factor = float(getFloat(*v, "factor", 8.0));
        r.lowFreqFactor = float(getFloat(*v, "low_freq_factor", 1.0));
        r.highFreqFactor = float(getFloat(*v, "high_freq_factor", 4.0));
        r.originalContext = getInt(*v, "original_max_position_embeddings", 8192);
    } else {
        fail("field rope_scaling: type '" + type + "' is not supported (supported: linear, llama3)");
    }
    if (!(r.factor > 0.0f))
        fail("field rope_scaling: factor must be positive");
    // The llama3 ramp divides by (high - low) and by the original context.
    if (r.kind == RopeScaling::Kind::Llama3 &&
        !(r.lowFreqFactor > 0.0f && r.highFreqFactor > r.lowFreqFactor && r.originalContext > 0))
        fail("field rope_scaling: llama3 needs 0 < low_freq_factor < high_freq_factor and a positive "
             "original_max_position_embeddings");
    return r;
}

} // namespace

nlohmann::json readJsonFile(const std::string &path, const std::string &name)
{
    return withContext(name, [&] {
        std::ifstream in(path, std::ios::binary | std::ios::ate);
        if (!in)
            fail("cannot open " + path);
        const std::streamoff size = in.tellg();
        if (size < 0 || std::uintmax_t(size) > kMaxJsonFileBytes)
            fail("file is larger than " + std::to_string(kMaxJsonFileBytes >> 20) + " MB");
        in.seekg(0);
        std::string text(size_t(size), '\0');
        in.read(text.data(), size);
        if (!in)
            fail("cannot read " + path);
        try {
            return Json::parse(text);
        } catch (const Json::exception &e) {
            fail(std::string("not valid JSON: ") + e.what());
        }
    });
}

ModelConfig parseHfConfig(const Json &cfg, const Json &gen)
{
    ModelConfig c;
    withContext("config.json", [&] {
        if (!cfg.is_object())
            fail("not a JSON object");
        const Json *mt = field(cfg, "model_type");
        if (!mt)
            fail("field model_type is missing");
        if (!mt->is_string())
            badField("model_type", "a string", *mt);
        const std::string modelType = mt->get<std::string>();
        const ArchSpec *spec = findArchByHf(modelType);
        if (!spec)
            fail("model_type '" + modelType + "' is not supported (supported: " + supportedArchNames() + ")");
        c.arch = spec->name;
        c.dim = getInt(cfg, "hidden_size");
        c.nLayers = getInt(cfg, "num_hidden_layers");
        c.nHeads = getInt(cfg, "num_attention_heads");
        if (c.nHeads <= 0)
            fail("field num_attention_heads: " + std::to_string(c.nHeads) + " is not positive");
        c.nKvHeads = getInt(cfg, "num_key_value_heads", c.nHeads);
        c.headDim = getInt(cfg, "head_dim", c.dim / c.nHeads);
        c.ffnDim = getInt(cfg, "intermediate_size");
        c.vocabSize = getInt(cfg, "vocab_size");
        c.contextLength = getInt(cfg, "max_position_embeddings");
        c.normEps = float(getFloat(cfg, "rms_norm_eps", 1e-6));
        c.ropeTheta = float(getFloat(cfg, "rope_theta", 10000.0));
        if (getFloat(cfg, "partial_rotary_factor", 1.0) != 1.0)
            fail("field partial_rotary_factor: partial rotary embeddings are not supported");
        c.ropeDim = c.headDim;
        c.ropeLayout = RopeLayout::RotateHalf; // HF q/k rows are never permuted to interleaved pairs
        c.ropeScaling = parseRopeScaling(cfg);
        c.tiedEmbeddings = getBool(cfg, "tie_word_embeddings", spec->defaultTiedEmbeddings);
        c.qkvBias = spec->qkvBias || getBool(cfg, "attention_bias", false);
        c.qkNorm = spec->qkNorm;
        if (getBool(cfg, "mlp_bias", false))
            fail("field mlp_bias: MLP biases are not supported");
        const std::vector<int> bos = getIdList(cfg, "bos_token_id");
        const std::vector<int> eos = getIdList(cfg, "eos_token_id");
        c.bosId = bos.empty() ? -1 : bos.front();
        c.eosId = eos.empty() ? -1 : eos.front();
        c.stopIds = eos;
    });
    if (!gen.is_null()) {
        withContext("generation_config.json", [&] {
            if (!gen.is_object())
                fail("not a JSON object");
            for (int id : getIdList(gen, "eos_token_id"))
                if (std::find(c.stopIds.begin(), c.stopIds.end(), id) == c.stopIds.end())
                    c.stopIds.push_back(id);
            if (c.eosId < 0 && !c.stopIds.empty())
                c.eosId = c.stopIds.front();
            if (c.bosId < 0) {
                const std::vector<int> bos = getIdList(gen, "bos_token_id");
                c.bosId = bos.empty() ? -1 : bos.front();
            }
        });
    }
    return c;
}

} // namespace lathe
