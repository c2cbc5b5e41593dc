// Writing and reading PEFT LoRA adapters (see PeftAdapter.h).
#include "train/checkpoint/PeftAdapter.h"

#include "core/Error.h"
#include "core/Quant.h"
#include "model/ModelConfig.h"
#include "model/hf/SafetensorsFile.h"
#include "model/hf/SafetensorsWriter.h"
#include "model/write/QkLayout.h"
#include "train/checkpoint/FileIo.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>

namespace lathe {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char *kConfigFile = "adapter_config.json";
constexpr const char *kWeightsFile = "adapter_model.safetensors";

bool isQk(const std::string &module)
{
    return module == "q_proj" || module == "k_proj";
}

int qkHeads(const ModelConfig &c, const std::string &module)
{
    return module == "q_proj" ? c.nHeads : c.nKvHeads;
}

// Parses "base_model.model.model.layers.{i}.{self_attn|mlp}.{module}.lora_{A|B}.weight".
bool parseKey(const std::string &key, int &layer, std::string &module, char &matrix)
{
    const std::string prefix = "base_model.model.model.layers.";
    if (key.rfind(prefix, 0) != 0)
        return false;
    size_t p = prefix.size(), q = p;
    while (q < key.size() && std::isdigit(static_cast<unsigned char>(key[q])))
        ++q;
    if (q == p || q - p > 6 || q >= key.size() || key[q] != '.')
        return false;
    layer = std::stoi(key.substr(p, q - p));
    const std::string rest = key.substr(q + 1);
    for (const std::string &m : loraModuleNames())
        for (char x : {'A', 'B'})
            if (rest == peftModulePath(m) + ".lora_" + x + ".weight") {
                module = m;
                matrix = x;
                return true;
            }
    return false;
}

std::vector<std::string> readTargetModules(const json &t, const std::string &where)
{
    std::vector<std::string> out;
    if (t.is_string() && t.get<std::string>() == "all-linear")
        return loraModuleNames();
    if (!t.is_array())
        fail(where + ": target_modules: must be a list of module names or \"all-linear\"");
    for (const json &v : t) {
        const auto &known = loraModuleNames();
        if (!v.is_string() || std::find(known.begin(), known.end(), v.get<std::string>()) == known.end())
            fail(where + ": target_modules: " + v.dump() + " is not a linear module of a decoder layer");
        out.push_back(v.get<std::string>());
    }
    if (out.empty())
        fail(where + ": target_modules: is empty");
    std::vector<std::string> ordered;
    for (const std::string &m : loraModuleNames())
        if (std::find(out.begin(), out.end(), m) != out.end())
            ordered.push_back(m);
    return ordered;
}

LoraSpec readConfig(const std::string &path, std::string &baseModel)
{
    json j;
    try {
        j = json::parse(readFileText(path, 1 << 20));
    } catch (const json::exception &e) {
        fail(path + ": not valid JSON: " + e.what());
    }
    if (!j.is_object())
        fail(path + ": must be a JSON object");
    auto str = [&](const char *k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
    if (str("peft_type") != "LORA")
        fail(path + ": peft_type: must be \"LORA\", got " + (j.contains("peft_type") ? j["peft_type"].dump() : "nothing"));
    if (j.contains("task_type") && !j["task_type"].is_null() && str("task_type") != "CAUSAL_LM")
        fail(path + ": task_type: must be \"CAUSAL_LM\", got " + j["task_type"].dump());
    LoraSpec s;
    if (!j.contains("r") || !j["r"].is_number_integer() || j["r"].get<int64_t>() < 1 || j["r"].get<int64_t>() > 65536)
        fail(path + ": r: must be an integer >= 1");
    s.rank = int(j["r"].get<int64_t>());
    if (!j.contains("lora_alpha") || !j["lora_alpha"].is_number() || !(j["lora_alpha"].get<double>() > 0.0))
        fail(path + ": lora_alpha: must be a number > 0");
    s.alpha = j["lora_alpha"].get<double>();
    if (j.contains("lora_dropout")) {
        if (!j["lora_dropout"].is_number() || j["lora_dropout"].get<double>() < 0.0 ||
            j["lora_dropout"].get<double>() >= 1.0)
            fail(path + ": lora_dropout: must be a number in [0, 1)");
        s.dropout = j["lora_dropout"].get<double>();
    }
    if (j.contains("use_rslora")) {
        if (!j["use_rslora"].is_boolean())
            fail(path + ": use_rslora: must be true or false");
        s.rsLora = j["use_rslora"].get<bool>();
    }
    if (!j.contains("target_modules"))
        fail(path + ": target_modules: missing");
    s.targets = readTargetModules(j["target_modules"], path);
    if (j.contains("bias") && str("bias") != "none")
        fail(path + ": bias: only \"none\" is supported, got " + j["bias"].dump());
    if (j.contains("fan_in_fan_out") && j["fan_in_fan_out"] != false)
        fail(path + ": fan_in_fan_out: only false is supported");
    for (const char *k : {"modules_to_save", "layers_to_transform", "rank_pattern", "alpha_pattern"})
        if (j.contains(k) && !j[k].is_null() && !(j[k].is_object() && j[k].empty()))
            fail(path + ": " + k + ": is not supported (the adapter must be plain LoRA on whole layers)");
    if (j.contains("use_dora") && j["use_dora"] == true)
        fail(path + ": use_dora: DoRA adapters are not supported");
    baseModel = str("base_model_name_or_path");
    return s;
}

} // namespace

std::string peftModulePath(const std::string &module)
{
    if (module == "q_proj" || module == "k_proj" || module == "v_proj" || module == "o_proj")
        return "self_attn." + module;
    if (module == "gate_proj" || module == "up_proj" || module == "down_proj")
        return "mlp." + module;
    fail("no linear module '" + module + "' in a decoder layer");
}

std::string peftTensorKey(int layer, const std::string &module, char matrix)
{
    return "base_model.model.model.layers." + std::to_string(layer) + "." + peftModulePath(module) + ".lora_" +
           matrix + ".weight";
}

std::string loraParamName(int layer, const std::string &module, char matrix)
{
    return "layers." + std::to_string(layer) + "." + module + ".lora_" + matrix;
}

std::vector<int64_t> loraShape(const ModelConfig &c, const std::string &module, char matrix, int rank)
{
    int64_t in = c.dim, out = c.dim;
    const int64_t q = int64_t(c.nHeads) * c.headDim, kv = int64_t(c.nKvHeads) * c.headDim;
    if (module == "q_proj")
        out = q;
    else if (module == "k_proj" || module == "v_proj")
        out = kv;
    else if (module == "o_proj")
        in = q;
    else if (module == "gate_proj" || module == "up_proj")
        out = c.ffnDim;
    else if (module == "down_proj")
        in = c.ffnDim;
    else
        fail("no linear module '" + module + "' in a decoder layer");
    return matrix == 'A' ? std::vector<int64_t>{rank, in} : std::vector<int64_t>{out, rank};
}

std::vector<WrittenFile> writePeftAdapter(const std::string &dir, const ModelConfig &config, const LoraSpec &lora,
                                          const std::string &baseModelName,
                                          const std::vector<TrainParam<float>> &params)
{
    std::map<std::string, const TrainParam<float> *> byName;
    for (const TrainParam<float> &p : params)
        byName[p.name] = &p;
    SafetensorsWriter w;
    for (int l = 0; l < config.nLayers; ++l)
        for (const std::string &m : lora.targets)
            for (char x : {'A', 'B'}) {
                const std::string name = loraParamName(l, m, x);
                auto it = byName.find(name);
                if (it == byName.end())
                    fail("writing the adapter: the model has no parameter " + name);
                const TrainParam<float> &p = *it->second;
                const std::vector<int64_t> shape = loraShape(config, m, x, lora.rank);
                if (p.shape != shape || int64_t(p.value.size()) != shape[0] * shape[1])
                    fail("writing the adapter: parameter " + name + " has shape " + shapeString(p.shape) +
                         ", expected " + shapeString(shape));
                std::vector<float> values = p.value;
                if (x == 'B' && isQk(m) && config.ropeLayout != RopeLayout::RotateHalf)
                    convertQkLayout(p.value.data(), values.data(), qkHeads(config, m), config.headDim, shape[1],
                                    config.ropeLayout, RopeLayout::RotateHalf);
                w.addTensor(peftTensorKey(l, m, x), DType::F32, shape, values.data(), values.size() * sizeof(float));
            }
    w.setMetadata("format", "pt");
    const json cfg = {{"peft_type", "LORA"},
                      {"task_type", "CAUSAL_LM"},
                      {"r", lora.rank},
                      {"lora_alpha", lora.alpha},
                      {"lora_dropout", lora.dropout},
                      {"target_modules", lora.targets},
                      {"bias", "none"},
                      {"use_rslora", lora.rsLora},
                      {"fan_in_fan_out", false},
                      {"inference_mode", true},
                      {"init_lora_weights", true},
                      {"modules_to_save", nullptr},
                      {"base_model_name_or_path", baseModelName},
                      {"revision", nullptr}};
    const std::string cfgText = cfg.dump(2) + "\n";
    const std::vector<uint8_t> bytes = w.serialize();
    writeFileAtomic((fs::path(dir) / kWeightsFile).string(), bytes.data(), bytes.size());
    writeFileAtomic((fs::path(dir) / kConfigFile).string(), cfgText);
    return {{kWeightsFile, int64_t(bytes.size()), fnv1a64Hex(bytes.data(), bytes.size())},
            {kConfigFile, int64_t(cfgText.size()), fnv1a64Hex(cfgText)}};
}

PeftAdapter readPeftAdapter(const std::string &dir, const ModelConfig &config)
{
    PeftAdapter a;
    const std::string cfgPath = (fs::path(dir) / kConfigFile).string();
    const std::string wPath = (fs::path(dir) / kWeightsFile).string();
    a.lora = readConfig(cfgPath, a.baseModelName);
    auto file = SafetensorsFile::open(wPath);
    std::set<std::string> wanted;
    for (int l = 0; l < config.nLayers; ++l)
        for (const std::string &m : a.lora.targets)
            for (char x : {'A', 'B'})
                wanted.insert(peftTensorKey(l, m, x));
    for (const TensorView &t : file->tensors()) {
        int layer = 0;
        std::string module;
        char x = 0;
        if (!parseKey(t.name, layer, module, x))
            fail(wPath + ": tensor " + t.name + " is not a LoRA matrix of a decoder layer");
        if (!wanted.count(t.name))
            fail(wPath + ": tensor " + t.name + " belongs to " +
                 (layer >= config.nLayers ? "layer " + std::to_string(layer) + ", but the model has " +
                                                std::to_string(config.nLayers) + " layers"
                                          : "a module that adapter_config.json does not list"));
        const std::vector<int64_t> shape = loraShape(config, module, x, a.lora.rank);
        if (t.shape != shape)
            fail(wPath + ": tensor " + t.name + ": shape " + shapeString(t.shape) + ", expected " +
                 shapeString(shape) + " for this model and r = " + std::to_string(a.lora.rank));
        if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16)
            fail(wPath + ": tensor " + t.name + ": type " + dtypeName(t.dtype) + " (F32, F16 or BF16 expected)");
        LoraMatrix mat;
        mat.shape = shape;
        mat.values.resize(size_t(shape[0] * shape[1]));
        dequantizeRow(t.dtype, t.data, mat.values.data(), int64_t(mat.values.size()));
        for (float v : mat.values)
            if (!std::isfinite(v))
                fail(wPath + ": tensor " + t.name + " holds a non-finite value");
        if (x == 'B' && isQk(module) && config.ropeLayout != RopeLayout::RotateHalf) {
            std::vector<float> mine(mat.values.size());
            convertQkLayout(mat.values.data(), mine.data(), qkHeads(config, module), config.headDim, shape[1],
                            RopeLayout::RotateHalf, config.ropeLayout);
            mat.values = std::move(mine);
        }
        a.matrices[loraParamName(layer, module, x)] = std::move(mat);
        wanted.erase(t.name);
    }
    if (!wanted.empty())
        fail(wPath + ": tensor " + *wanted.begin() + " is missing (" + std::to_string(wanted.size()) +
             " adapter matrices missing in all)");
    return a;
}

} // namespace lathe
