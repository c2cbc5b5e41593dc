// writeHfModel(): a folder transformers' from_pretrained() reads: config.json with the
// model_type's field names, generation_config.json, and the weights under HF names in
// one model.safetensors or shards plus model.safetensors.index.json.
#include "core/Error.h"
#include "core/Half.h"
#include "model/ArchSpec.h"
#include "model/WeightNames.h"
#include "model/hf/HfTensorNames.h"
#include "model/hf/SafetensorsWriter.h"
#include "model/write/ModelWriter.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace lathe {

namespace {

using Json = nlohmann::json;

// A float as the shortest decimal that reads back to the same float (1e-06, not
// 9.999999974752427e-07), so config.json looks like the ones people write.
double tidy(float f)
{
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, f);
    return std::strtod(std::string(buf, res.ptr).c_str(), nullptr);
}

const char *hfClassName(const std::string &arch)
{
    if (arch == "llama") return "LlamaForCausalLM";
    if (arch == "mistral") return "MistralForCausalLM";
    if (arch == "qwen2") return "Qwen2ForCausalLM";
    if (arch == "qwen3") return "Qwen3ForCausalLM";
    fail("no Hugging Face class for architecture " + arch);
}

const char *torchDtype(DType t)
{
    switch (t) {
    case DType::F32: return "float32";
    case DType::F16: return "float16";
    case DType::BF16: return "bfloat16";
    default: fail(std::string("Hugging Face weights must be F32, F16 or BF16, not ") + dtypeName(t));
    }
}

Json idOrNull(int id) { return id >= 0 ? Json(id) : Json(nullptr); }

Json eosJson(const ModelConfig &c)
{
    if (c.stopIds.size() > 1)
        return Json(c.stopIds);
    return idOrNull(c.eosId);
}

Json configJson(const ModelConfig &c, const ArchSpec &spec, DType dtype)
{
    Json j;
    j["architectures"] = {hfClassName(c.arch)};
    j["model_type"] = spec.hfModelTypes.front();
    j["hidden_size"] = c.dim;
    j["intermediate_size"] = c.ffnDim;
    j["num_hidden_layers"] = c.nLayers;
    j["num_attention_heads"] = c.nHeads;
    j["num_key_value_heads"] = c.nKvHeads;
    j["head_dim"] = c.headDim;
    j["vocab_size"] = c.vocabSize;
    j["max_position_embeddings"] = c.contextLength;
    j["rms_norm_eps"] = tidy(c.normEps);
    j["rope_theta"] = tidy(c.ropeTheta);
    if (c.ropeScaling.kind == RopeScaling::Kind::Linear) {
        j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", tidy(c.ropeScaling.factor)}};
    } else if (c.ropeScaling.kind == RopeScaling::Kind::Llama3) {
        j["rope_scaling"] = {{"rope_type", "llama3"},
                             {"factor", tidy(c.ropeScaling.factor)},
                             {"low_freq_factor", tidy(c.ropeScaling.lowFreqFactor)},
                             {"high_freq_factor", tidy(c.ropeScaling.highFreqFactor)},
                             {"original_max_position_embeddings", c.ropeScaling.originalContext}};
    } else {
        j["rope_scaling"] = nullptr;
    }
    j["hidden_act"] = "silu";
    if (c.arch == "llama" || c.arch == "mistral")
        j["attention_bias"] = c.qkvBias;
    if (c.arch == "llama")
        j["mlp_bias"] = false;
    if (c.arch == "mistral" || c.arch == "qwen2" || c.arch == "qwen3") {
        j["sliding_window"] = nullptr;
        if (c.arch != "mistral")
            j["use_sliding_window"] = false;
    }
    j["tie_word_embeddings"] = c.tiedEmbeddings;
    j["bos_token_id"] = idOrNull(c.bosId);
    j["eos_token_id"] = eosJson(c);
    j["torch_dtype"] = torchDtype(dtype);
    j["use_cache"] = true;
    return j;
}

void writeJson(const std::filesystem::path &path, const Json &j)
{
    const std::filesystem::path tmp = path.string() + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            fail("cannot create " + tmp.string());
        out << j.dump(2) << "\n";
        if (!out.flush())
            fail("cannot write " + tmp.string());
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec)
        fail("cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message());
}

struct HfTensor
{
    std::string name;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
};

HfTensor convert(const ModelConfig &c, const TensorView &t, DType dtype)
{
    const std::vector<float> v = detail::tensorAsF32(c, t, RopeLayout::RotateHalf);
    HfTensor out{hfFromCanonical(t.name), t.shape, {}};
    const size_t esize = dtype == DType::F32 ? 4 : 2;
    out.bytes.resize(v.size() * esize);
    for (size_t i = 0; i < v.size(); ++i) {
        if (dtype == DType::F32) {
            std::memcpy(out.bytes.data() + 4 * i, &v[i], 4);
        } else {
            const uint16_t h = dtype == DType::F16 ? f32ToF16(v[i]) : f32ToBf16(v[i]);
            std::memcpy(out.bytes.data() + 2 * i, &h, 2);
        }
    }
    return out;
}

} // namespace

WriteReport writeHfModel(const ModelConfig &config, const Weights &weights, const std::string &folder,
                         const HfWriteOptions &options)
{
    namespace fs = std::filesystem;
    return withContext("writing " + folder, [&] {
        config.validate();
        validateWeights(config, weights);
        const ArchSpec &spec = *findArch(config.arch);
        torchDtype(options.dtype); // rejects other dtypes before anything is written
        std::error_code ec;
        fs::create_directories(folder, ec);
        if (ec)
            fail("cannot create the folder: " + ec.message());

        // Shards are planned from sizes first: the file names carry the shard count.
        const std::vector<ExpectedTensor> expected = expectedTensors(config);
        const size_t esize = options.dtype == DType::F32 ? 4 : 2;
        std::vector<std::vector<const ExpectedTensor *>> shards(1);
        int64_t shardSize = 0, total = 0;
        for (const ExpectedTensor &e : expected) {
            int64_t bytes = int64_t(esize);
            for (int64_t d : e.shape)
                bytes *= d;
            if (options.shardBytes > 0 && shardSize > 0 && shardSize + bytes > options.shardBytes) {
                shards.emplace_back();
                shardSize = 0;
            }
            shards.back().push_back(&e);
            shardSize += bytes;
            total += bytes;
        }

        WriteReport report;
        Json weightMap = Json::object();
        const bool sharded = options.shardBytes > 0;
        for (size_t s = 0; s < shards.size(); ++s) {
            char name[64];
            std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
            const std::string file = sharded ? std::string(name) : std::string("model.safetensors");
            SafetensorsWriter writer;
            writer.setMetadata("format", "pt");
            for (const ExpectedTensor *e : shards[s]) {
                const HfTensor t = convert(config, weights.get(e->name), options.dtype);
                writer.addTensor(t.name, options.dtype, t.shape, t.bytes.data(), t.bytes.size());
                weightMap[t.name] = file;
                report.tensorTypes[e->name] = options.dtype;
                report.tensorBytes += int64_t(t.bytes.size());
            }
            writer.write((fs::path(folder) / file).string());
        }
        if (sharded) {
            Json index;
            index["metadata"] = {{"total_size", total}};
            index["weight_map"] = weightMap;
            writeJson(fs::path(folder) / "model.safetensors.index.json", index);
        } else {
            // A stale index from an earlier sharded write would shadow the new file.
            fs::remove(fs::path(folder) / "model.safetensors.index.json", ec);
        }
        Json gen;
        gen["bos_token_id"] = idOrNull(config.bosId);
        gen["eos_token_id"] = eosJson(config);
        writeJson(fs::path(folder) / "generation_config.json", gen);
        writeJson(fs::path(folder) / "config.json", configJson(config, spec, options.dtype));
        return report;
    });
}

WriteReport writeHfModel(const ModelConfig &config, const Weights &weights, const std::string &folder, DType dtype)
{
    HfWriteOptions options;
    options.dtype = dtype;
    return writeHfModel(config, weights, folder, options);
}

} // namespace lathe
