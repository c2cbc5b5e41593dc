// Recording and comparing base-model identities (see ModelIdentity.h).
#include "train/checkpoint/ModelIdentity.h"

#include "core/Error.h"
#include "model/LoadedModel.h"
#include "model/ModelConfig.h"
#include "train/checkpoint/FileIo.h"

#include <filesystem>

namespace lathe {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

int64_t weightFileBytes(const std::string &path)
{
    std::error_code ec;
    if (!fs::is_directory(path, ec))
        return int64_t(fs::file_size(path, ec));
    int64_t n = 0;
    for (const auto &e : fs::directory_iterator(path, ec)) {
        const std::string name = e.path().filename().string();
        const bool weights = e.path().extension() == ".safetensors" || name == "config.json";
        if (weights && e.is_regular_file(ec))
            n += int64_t(e.file_size(ec));
    }
    return n;
}

json configJson(const ModelConfig &c)
{
    return {{"arch", c.arch},
            {"vocab", c.vocabSize},
            {"dim", c.dim},
            {"layers", c.nLayers},
            {"heads", c.nHeads},
            {"kv_heads", c.nKvHeads},
            {"head_dim", c.headDim},
            {"ffn", c.ffnDim},
            {"context", c.contextLength},
            {"norm_eps", c.normEps},
            {"rope_theta", c.ropeTheta},
            {"rope_dim", c.ropeDim},
            {"rope_layout", int(c.ropeLayout)},
            {"rope_scaling",
             {int(c.ropeScaling.kind), c.ropeScaling.factor, c.ropeScaling.lowFreqFactor, c.ropeScaling.highFreqFactor,
              c.ropeScaling.originalContext}},
            {"tied", c.tiedEmbeddings},
            {"qkv_bias", c.qkvBias},
            {"qk_norm", c.qkNorm},
            {"bos", c.bosId},
            {"eos", c.eosId}};
}

} // namespace

ModelIdentity ModelIdentity::of(const ModelConfig &c, const std::string &path)
{
    ModelIdentity id;
    id.arch = c.arch;
    id.dims = {{"vocab", c.vocabSize}, {"dim", c.dim},         {"layers", c.nLayers}, {"heads", c.nHeads},
               {"kv_heads", c.nKvHeads}, {"head_dim", c.headDim}, {"ffn", c.ffnDim},   {"context", c.contextLength}};
    id.configHash = fnv1a64Hex(configJson(c).dump());
    id.fileBytes = path.empty() ? 0 : weightFileBytes(path);
    id.path = path;
    return id;
}

ModelIdentity ModelIdentity::of(const LoadedModel &model)
{
    return of(model.config, model.path);
}

json ModelIdentity::toJson() const
{
    return {{"arch", arch}, {"dims", dims}, {"config_hash", configHash}, {"file_bytes", fileBytes}, {"path", path}};
}

ModelIdentity ModelIdentity::fromJson(const json &j, const std::string &where)
{
    if (!j.is_object())
        fail(where + ": model: must be an object");
    ModelIdentity id;
    try {
        id.arch = j.at("arch").get<std::string>();
        id.dims = j.at("dims");
        id.configHash = j.at("config_hash").get<std::string>();
        id.fileBytes = j.at("file_bytes").get<int64_t>();
        id.path = j.value("path", "");
    } catch (const json::exception &e) {
        fail(where + ": model: " + e.what());
    }
    if (!id.dims.is_object())
        fail(where + ": model.dims: must be an object");
    return id;
}

std::string ModelIdentity::differences(const ModelIdentity &o) const
{
    std::string out;
    auto add = [&](const std::string &s) { out += (out.empty() ? "" : ", ") + s; };
    if (arch != o.arch)
        add("arch " + arch + " vs " + o.arch);
    for (auto it = dims.begin(); it != dims.end(); ++it)
        if (!o.dims.contains(it.key()) || o.dims[it.key()] != it.value())
            add(it.key() + " " + it.value().dump() + " vs " + (o.dims.contains(it.key()) ? o.dims[it.key()].dump() : "?"));
    if (out.empty() && configHash != o.configHash)
        add("config hash " + configHash + " vs " + o.configHash);
    if (fileBytes != o.fileBytes)
        add("weight files of " + std::to_string(fileBytes) + " vs " + std::to_string(o.fileBytes) + " bytes");
    return out;
}

} // namespace lathe
