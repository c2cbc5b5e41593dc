// loadHfModel(): a Hugging Face folder (config.json, optional generation_config.json,
// model.safetensors or a sharded model.safetensors.index.json) -> LoadedModel.
// Tensors stay in the safetensors mappings; names are translated to the canonical
// ones and every shape is checked against the config before the views are handed out.
#include "core/Error.h"
#include "model/LoadedModel.h"
#include "model/WeightNames.h"
#include "model/hf/HfConfig.h"
#include "model/hf/HfTensorNames.h"
#include "model/hf/SafetensorsFile.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

namespace lathe {

namespace {

namespace fs = std::filesystem;

struct Shard
{
    std::string fileName; // as named in messages: "model.safetensors"
    std::shared_ptr<const SafetensorsFile> file;
};

// A shard name from the index must be a plain file in the folder: no path tricks.
void checkShardName(const std::string &name)
{
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\\') != std::string::npos || name.find('\0') != std::string::npos)
        fail("shard name '" + name + "' is not a plain file name");
}

std::vector<Shard> openShards(const fs::path &dir)
{
    std::error_code ec;
    if (fs::exists(dir / "model.safetensors", ec))
        return {{"model.safetensors", SafetensorsFile::open((dir / "model.safetensors").string())}};
    if (!fs::exists(dir / "model.safetensors.index.json", ec))
        fail("neither model.safetensors nor model.safetensors.index.json is present");

    const std::string indexName = "model.safetensors.index.json";
    const nlohmann::json index = readJsonFile((dir / indexName).string(), indexName);
    std::map<std::string, std::string> weightMap; // tensor -> shard
    withContext(indexName, [&] {
        if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
            fail("no weight_map object");
        for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
            if (!it.value().is_string())
                fail("weight_map entry for " + it.key() + " is not a file name");
            checkShardName(it.value().get<std::string>());
            weightMap[it.key()] = it.value().get<std::string>();
        }
        if (weightMap.empty())
            fail("weight_map is empty");
    });

    std::map<std::string, std::string> shardExample; // shard -> one tensor it should hold
    for (const auto &[tensor, shard] : weightMap)
        shardExample.emplace(shard, tensor);
    std::vector<Shard> shards;
    for (const auto &[shard, tensor] : shardExample) {
        if (!fs::exists(dir / shard, ec))
            fail(indexName + ": shard " + shard + " (holding tensor " + tensor + ") is missing");
        shards.push_back({shard, SafetensorsFile::open((dir / shard).string())});
    }
    for (const auto &[tensor, shard] : weightMap) {
        const auto it = std::find_if(shards.begin(), shards.end(),
                                     [&shardName = shard](const Shard &s) { return s.fileName == shardName; });
        if (!it->file->tensor(tensor))
            fail(indexName + ": tensor " + tensor + " is listed in shard " + shard + " but not found there");
    }
    return shards;
}

void addShardTensors(const Shard &shard, const ModelConfig &config,
                     const std::map<std::string, std::vector<int64_t>> &expected, Weights &weights)
{
    for (const TensorView &view : shard.file->tensors()) {
        if (isIgnoredHfTensor(view.name))
            continue;
        withContext(shard.fileName + ": tensor " + view.name, [&] {
            const std::optional<std::string> canonical = canonicalFromHf(view.name, config.nLayers);
            if (!canonical)
                fail("unknown tensor name for a " + config.arch + " model");
            // With tied embeddings transformers reuses embed_tokens for the head and
            // ignores a stored lm_head, so we do the same.
            if (*canonical == "output.weight" && config.tiedEmbeddings)
                return;
            if (canonical->find("attn_output.bias") != std::string::npos)
                fail("an output projection bias is not supported");
            const auto it = expected.find(*canonical);
            if (it == expected.end())
                fail("not used by a " + config.arch + " model with this config.json (" + *canonical + ")");
            if (view.shape != it->second)
                fail("shape " + shapeString(view.shape) + ", expected " + shapeString(it->second));
            TensorView v = view;
            v.name = *canonical;
            weights.add(std::move(v));
        });
    }
    weights.keepAlive(shard.file);
}

} // namespace

LoadedModel loadHfModel(const std::string &folder)
{
    return withContext("loading " + folder, [&] {
        const fs::path dir(folder);
        std::error_code ec;
        if (!fs::is_directory(dir, ec))
            fail("not a directory");
        if (!fs::exists(dir / "config.json", ec))
            fail("config.json is missing (not a Hugging Face model folder)");
        const nlohmann::json config = readJsonFile((dir / "config.json").string(), "config.json");
        nlohmann::json generation; // null unless the file exists
        if (fs::exists(dir / "generation_config.json", ec))
            generation = readJsonFile((dir / "generation_config.json").string(), "generation_config.json");

        LoadedModel model;
        model.format = ModelFormat::HfFolder;
        model.path = folder;
        model.config = parseHfConfig(config, generation);
        withContext("config.json", [&] { model.config.validate(); });

        const std::vector<ExpectedTensor> expectedList = expectedTensors(model.config);
        std::map<std::string, std::vector<int64_t>> expected;
        for (const ExpectedTensor &e : expectedList)
            expected[e.name] = e.shape;
        const std::vector<Shard> shards = openShards(dir);
        for (const Shard &shard : shards)
            addShardTensors(shard, model.config, expected, model.weights);

        const std::string where = shards.size() == 1 ? shards.front().fileName : "model.safetensors shards";
        for (const ExpectedTensor &e : expectedList) { // in model order: the first missing is named
            if (model.weights.find(e.name))
                continue;
            if (e.name == "output.weight")
                fail(where + ": tensor lm_head.weight is missing (config.json has tie_word_embeddings false)");
            fail(where + ": tensor " + hfFromCanonical(e.name) + " is missing (" + e.name + " " + shapeString(e.shape) +
                 ")");
        }
        validateWeights(model.config, model.weights);
        return model;
    });
}

} // namespace lathe
