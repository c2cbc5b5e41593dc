// Parsing, checking and writing run specs (see RunSpec.h for the format).
#include "train/spec/RunSpec.h"

#include "core/Error.h"
#include "model/ModelConfig.h"
#include "train/spec/JsonFields.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace lathe {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kBaseFormats{"as_loaded", "f32", "f16", "bf16", "q8_0", "nf4"};
const std::vector<std::string> kPrecisions{"f32", "bf16", "f16"};

std::string resolve(const std::string &path, const std::string &baseDir)
{
    if (path.empty() || baseDir.empty() || fs::path(path).is_absolute())
        return path;
    return (fs::path(baseDir) / path).lexically_normal().string();
}

void requireExists(const std::string &path, const std::string &field)
{
    std::error_code ec;
    if (!fs::exists(path, ec))
        fail(field + ": " + path + " does not exist");
}

std::vector<std::string> readTargets(const json &t, const JsonFields &fields)
{
    std::vector<std::string> out;
    auto add = [&](const json &v) {
        if (!v.is_string())
            fields.failAt("targets", "must be \"all-linear\" or a list of module names");
        const std::string name = v.get<std::string>();
        if (name == "all-linear") {
            for (const std::string &m : loraModuleNames())
                if (std::find(out.begin(), out.end(), m) == out.end())
                    out.push_back(m);
            return;
        }
        const auto &known = loraModuleNames();
        if (std::find(known.begin(), known.end(), name) == known.end()) {
            std::string list;
            for (const std::string &m : known)
                list += (list.empty() ? "" : ", ") + m;
            fields.failAt("targets", "the model has no linear module '" + name + "' (it has " + list +
                                         ", or \"all-linear\")");
        }
        if (std::find(out.begin(), out.end(), name) != out.end())
            fields.failAt("targets", "'" + name + "' is listed twice");
        out.push_back(name);
    };
    if (t.is_array()) {
        for (const json &v : t)
            add(v);
    } else {
        add(t);
    }
    if (out.empty())
        fields.failAt("targets", "must name at least one module");
    // Keep the fixed module order so that the same set always reads the same.
    std::vector<std::string> ordered;
    for (const std::string &m : loraModuleNames())
        if (std::find(out.begin(), out.end(), m) != out.end())
            ordered.push_back(m);
    return ordered;
}

void readAdapter(RunSpec &s, const json &j, const std::string &where)
{
    JsonFields f(j, where, "adapter");
    s.adapter.rank = int(f.integer("rank", s.adapter.rank, 1, 4096));
    s.adapter.alpha = f.number("alpha", s.adapter.alpha, 1e-6, 1e6);
    s.adapter.dropout = f.number("dropout", s.adapter.dropout, 0.0, 0.95);
    s.adapter.rsLora = f.boolean("rslora", s.adapter.rsLora);
    if (const json *t = f.get("targets"))
        s.adapter.targets = readTargets(*t, f);
    f.finish();
}

void readOptimizer(RunSpec &s, const json &j, const std::string &where)
{
    JsonFields f(j, where, "optimizer");
    if (const json *lr = f.get("lr"); lr && lr->is_number() && !(lr->get<double>() > 0.0))
        f.failAt("lr", "must be > 0, got " + lr->dump());
    s.optimizer.lr = f.number("lr", s.optimizer.lr, 1e-12, 10.0);
    if (const json *b = f.get("betas")) {
        if (!b->is_array() || b->size() != 2 || !(*b)[0].is_number() || !(*b)[1].is_number())
            f.failAt("betas", "must be a list of two numbers");
        s.optimizer.beta1 = (*b)[0].get<double>();
        s.optimizer.beta2 = (*b)[1].get<double>();
        if (!(s.optimizer.beta1 >= 0.0 && s.optimizer.beta1 < 1.0 && s.optimizer.beta2 >= 0.0 &&
              s.optimizer.beta2 < 1.0))
            f.failAt("betas", "each must be in [0, 1)");
    }
    s.optimizer.eps = f.number("eps", s.optimizer.eps, 1e-30, 1.0);
    s.optimizer.weightDecay = f.number("weight_decay", s.optimizer.weightDecay, 0.0, 10.0);
    s.gradClip = f.number("grad_clip", s.gradClip, 0.0, 1e9);
    f.finish();
}

void readSchedule(RunSpec &s, const json &j, const std::string &where)
{
    JsonFields f(j, where, "schedule");
    s.schedule = *scheduleKindFromName(f.choice("kind", "constant", {"constant", "linear", "cosine"}));
    s.warmupSteps = f.integer("warmup_steps", 0, 0, int64_t(1) << 40);
    if (f.has("steps") && f.has("epochs"))
        f.failAt("steps", "give steps or epochs, not both");
    s.steps = f.integer("steps", 0, 1, int64_t(1) << 40);
    s.epochs = f.number("epochs", 0.0, 1e-6, 1e6);
    if (s.steps == 0 && s.epochs == 0.0)
        fail(f.field("steps") + ": give the run's length as steps or epochs");
    f.finish();
}

void readBatch(RunSpec &s, const json &j, const std::string &where)
{
    JsonFields f(j, where, "batch");
    s.batch.microBatch = f.integer("micro_batch", s.batch.microBatch, 1, 4096);
    s.batch.seqLen = f.integer("seq_len", s.batch.seqLen, 2, 1 << 20);
    s.batch.gradAccum = f.integer("grad_accum", s.batch.gradAccum, 1, 1 << 16);
    s.batch.packing = f.boolean("packing", s.batch.packing);
    s.batch.shuffle = f.boolean("shuffle", s.batch.shuffle);
    s.batch.splitLong = f.boolean("split_long", s.batch.splitLong);
    f.finish();
}

void readLossScale(RunSpec &s, const json &v, JsonFields &top, const std::string &where)
{
    if (v.is_string()) {
        if (v.get<std::string>() != "dynamic")
            top.failAt("loss_scale", "must be \"dynamic\", a number or an object");
        s.lossScale.dynamic = true;
    } else if (v.is_number()) {
        const double d = v.get<double>();
        if (!(d >= 1.0 && d <= 1e30))
            top.failAt("loss_scale", "a static scale must be in [1, 1e30], got " + v.dump());
        s.lossScale.dynamic = false;
        s.lossScale.initial = d;
    } else {
        JsonFields f(v, where, "loss_scale");
        s.lossScale.dynamic = f.boolean("dynamic", true);
        s.lossScale.initial = f.number("initial", s.lossScale.initial, 1.0, 1e30);
        s.lossScale.growthInterval = f.integer("growth_interval", s.lossScale.growthInterval, 1, int64_t(1) << 40);
        f.finish();
    }
}

template <class Enum>
Enum indexOf(const std::vector<std::string> &names, const std::string &s)
{
    return Enum(std::find(names.begin(), names.end(), s) - names.begin());
}

} // namespace

const char *baseFormatName(BaseFormat f)
{
    return kBaseFormats[size_t(f)].c_str();
}

const char *precisionName(ComputePrecision p)
{
    return kPrecisions[size_t(p)].c_str();
}

RunSpec RunSpec::fromJson(const json &j, const std::string &where, const std::string &baseDir)
{
    RunSpec s;
    JsonFields f(j, where, "");
    s.model = resolve(f.string("model", ""), baseDir);
    if (s.model.empty())
        f.failAt("model", "is required (a GGUF file, Hugging Face folder or llama2.c checkpoint)");
    s.tokenizer = resolve(f.string("tokenizer", ""), baseDir);
    s.baseModelName = f.string("base_model_name", "");
    s.mode = f.choice("mode", "lora", {"lora", "full"}) == "lora" ? TrainMode::Lora : TrainMode::Full;
    if (const json *a = f.get("adapter"))
        readAdapter(s, *a, where);
    s.baseFormat = indexOf<BaseFormat>(kBaseFormats, f.choice("base_format", "as_loaded", kBaseFormats));
    s.doubleQuant = f.boolean("double_quant", false);
    if (s.doubleQuant && s.baseFormat != BaseFormat::Nf4)
        f.failAt("double_quant", "applies to base_format nf4 only");
    if (s.mode == TrainMode::Full && s.baseFormat != BaseFormat::AsLoaded && s.baseFormat != BaseFormat::F32)
        f.failAt("base_format", std::string("full fine-tuning trains f32 weights; '") + baseFormatName(s.baseFormat) +
                                    "' needs mode lora");
    const json *data = f.get("data");
    if (!data)
        f.failAt("data", "is required (the dataset to train on)");
    s.data = DatasetSpec::fromJson(*data, where + ": data");
    s.data.path = resolve(s.data.path, baseDir);
    if (!s.data.cacheDir.empty())
        s.data.cacheDir = resolve(s.data.cacheDir, baseDir);
    if (const json *o = f.get("optimizer"))
        readOptimizer(s, *o, where);
    const json *sched = f.get("schedule");
    if (!sched)
        f.failAt("schedule", "is required (at least steps or epochs)");
    readSchedule(s, *sched, where);
    if (const json *b = f.get("batch"))
        readBatch(s, *b, where);
    s.precision = indexOf<ComputePrecision>(kPrecisions, f.choice("precision", "f32", kPrecisions));
    s.lossScale.enabled = s.precision == ComputePrecision::F16;
    if (const json *ls = f.get("loss_scale")) {
        if (s.precision != ComputePrecision::F16)
            f.failAt("loss_scale", "applies to precision f16 only");
        readLossScale(s, *ls, f, where);
    }
    s.activationCheckpointing = f.boolean("activation_checkpointing", false);
    if (const json *e = f.get("eval")) {
        JsonFields ef(*e, where, "eval");
        s.eval.every = ef.integer("every", 0, 0, int64_t(1) << 40);
        s.eval.maxBatches = ef.integer("max_batches", 0, 0, int64_t(1) << 40);
        ef.finish();
    }
    if (const json *c = f.get("checkpoint")) {
        JsonFields cf(*c, where, "checkpoint");
        s.checkpoint.dir = resolve(cf.string("dir", ""), baseDir);
        s.checkpoint.every = cf.integer("every", 0, 0, int64_t(1) << 40);
        s.checkpoint.atStop = cf.boolean("at_stop", true);
        s.checkpoint.keep = cf.integer("keep", 3, 0, int64_t(1) << 40);
        cf.finish();
        if (s.checkpoint.dir.empty() && s.checkpoint.every > 0)
            fail(cf.field("dir") + ": is required when checkpoint.every is set");
    }
    if (const json *b = f.get("budget")) {
        JsonFields bf(*b, where, "budget");
        s.budget.maxSteps = bf.integer("max_steps", 0, 0, int64_t(1) << 40);
        s.budget.maxTokens = bf.integer("max_tokens", 0, 0, int64_t(1) << 60);
        s.budget.maxSeconds = bf.number("max_seconds", 0.0, 0.0, 1e9);
        bf.finish();
    }
    s.seed = f.unsignedInteger("seed", 0);
    s.threads = int(f.integer("threads", 0, 0, 4096));
    f.finish();

    requireExists(s.model, f.field("model"));
    if (!s.tokenizer.empty())
        requireExists(s.tokenizer, f.field("tokenizer"));
    if (s.data.path.empty())
        fail(where + ": data.path: is required");
    requireExists(s.data.path, where + ": data.path");
    return s;
}

RunSpec RunSpec::fromFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail("cannot open run spec " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    json j;
    try {
        j = json::parse(ss.str());
    } catch (const json::exception &e) {
        fail(path + ": not valid JSON: " + e.what());
    }
    return fromJson(j, path, fs::path(path).parent_path().string());
}

json RunSpec::toJson() const
{
    json j;
    j["model"] = model;
    j["tokenizer"] = tokenizer;
    j["base_model_name"] = baseModelName;
    j["mode"] = mode == TrainMode::Lora ? "lora" : "full";
    j["adapter"] = {{"rank", adapter.rank},
                    {"alpha", adapter.alpha},
                    {"dropout", adapter.dropout},
                    {"rslora", adapter.rsLora},
                    {"targets", adapter.targets}};
    j["base_format"] = baseFormatName(baseFormat);
    j["double_quant"] = doubleQuant;
    j["data"] = data.toJson();
    j["optimizer"] = {{"lr", optimizer.lr},
                      {"betas", {optimizer.beta1, optimizer.beta2}},
                      {"eps", optimizer.eps},
                      {"weight_decay", optimizer.weightDecay},
                      {"grad_clip", gradClip}};
    j["schedule"] = {{"kind", scheduleKindName(schedule)}, {"warmup_steps", warmupSteps}};
    if (steps > 0)
        j["schedule"]["steps"] = steps;
    else
        j["schedule"]["epochs"] = epochs;
    j["batch"] = {{"micro_batch", batch.microBatch},
                  {"seq_len", batch.seqLen},
                  {"grad_accum", batch.gradAccum},
                  {"packing", batch.packing},
                  {"shuffle", batch.shuffle},
                  {"split_long", batch.splitLong}};
    j["precision"] = precisionName(precision);
    if (precision == ComputePrecision::F16)
        j["loss_scale"] = {{"dynamic", lossScale.dynamic},
                           {"initial", lossScale.initial},
                           {"growth_interval", lossScale.growthInterval}};
    j["activation_checkpointing"] = activationCheckpointing;
    j["eval"] = {{"every", eval.every}, {"max_batches", eval.maxBatches}};
    j["checkpoint"] = {{"dir", checkpoint.dir}, {"every", checkpoint.every}, {"at_stop", checkpoint.atStop},
                        {"keep", checkpoint.keep}};
    j["budget"] = {{"max_steps", budget.maxSteps},
                   {"max_tokens", budget.maxTokens},
                   {"max_seconds", budget.maxSeconds}};
    j["seed"] = seed;
    j["threads"] = threads;
    return j;
}

json RunSpec::mathSubset(json j)
{
    for (const char *k : {"model", "tokenizer", "base_model_name", "eval", "checkpoint", "budget", "threads"})
        j.erase(k);
    if (j.contains("data") && j["data"].is_object()) {
        j["data"].erase("path");
        j["data"].erase("cache_dir");
    }
    return j;
}

void RunSpec::validateAgainstModel(const ModelConfig &config, const std::string &where) const
{
    if (batch.seqLen > config.contextLength)
        fail(where + ": batch.seq_len: " + std::to_string(batch.seqLen) + " is above the model's context of " +
             std::to_string(config.contextLength) + " tokens");
    if (mode == TrainMode::Lora && adapter.rank > std::min(config.dim, config.ffnDim))
        fail(where + ": adapter.rank: " + std::to_string(adapter.rank) + " is above the model's width " +
             std::to_string(std::min(config.dim, config.ffnDim)) + " (a low-rank adapter must be narrower)");
}

TrainModelOptions RunSpec::modelOptions() const
{
    TrainModelOptions o;
    o.mode = mode;
    o.lora = adapter;
    o.baseFormat = baseFormat;
    o.doubleQuant = doubleQuant;
    o.precision = precision;
    o.checkpointActivations = activationCheckpointing;
    o.seed = seed;
    return o;
}

} // namespace lathe
