// loadGgufModel(): a GGUF file to a LoadedModel. The config comes from llama.cpp's
// metadata keys (llama-arch.cpp's LLM_KV_* names, prefixed by general.architecture);
// the weights stay in the file mapping and are checked against the config.
#include "core/Error.h"
#include "model/ArchSpec.h"
#include "model/LoadedModel.h"
#include "model/WeightNames.h"
#include "model/gguf/GgufFile.h"

#include <algorithm>
#include <climits>

namespace lathe {

namespace {

class MetadataReader
{
public:
    MetadataReader(const GgufFile &file, std::string prefix) : m_file(file), m_prefix(std::move(prefix)) {}

    // An integer config field: present keys must fit an int and be >= 0.
    std::optional<int> intField(const std::string &key) const
    {
        const std::string full = m_prefix + key;
        const std::optional<int64_t> v = m_file.getInt(full);
        if (!v)
            return std::nullopt;
        if (*v < 0 || *v > INT_MAX)
            fail("key " + full + ": value " + std::to_string(*v) + " is out of range");
        return int(*v);
    }
    int requiredInt(const std::string &key) const
    {
        const std::optional<int> v = intField(key);
        if (!v)
            fail("missing key " + m_prefix + key);
        return *v;
    }
    std::optional<double> floatField(const std::string &key) const { return m_file.getFloat(m_prefix + key); }

private:
    const GgufFile &m_file;
    std::string m_prefix;
};

// Token ids in tokenizer.ggml.*; llama.cpp writes 2^32-1 (-1 as u32) for "none".
int tokenId(const GgufFile &file, const std::string &key)
{
    const std::optional<int64_t> v = file.getInt(key);
    if (!v || *v < 0 || *v >= INT32_MAX)
        return -1;
    return int(*v);
}

RopeScaling ropeScaling(const GgufFile &file, const std::string &arch)
{
    RopeScaling s;
    const std::string p = arch + ".rope.scaling.";
    const std::optional<std::string> type = file.getString(p + "type");
    std::optional<double> factor = file.getFloat(p + "factor");
    if (!factor) // older converters wrote only this key
        factor = file.getFloat(arch + ".rope.scale_linear");
    if (type && *type != "linear" && *type != "none")
        fail("key " + p + "type: rope scaling '" + *type + "' is not supported (supported: none, linear)");
    if ((type && *type == "linear") || (!type && factor && *factor != 1.0)) {
        if (!factor || !(*factor > 0.0 && *factor < 1e6))
            fail("key " + p + "factor: linear rope scaling needs a positive factor");
        s.kind = RopeScaling::Kind::Linear;
        s.factor = float(*factor);
    }
    return s;
}

ModelConfig readConfig(const GgufFile &file, const ArchSpec &spec, const std::string &ggufArch)
{
    const MetadataReader md(file, ggufArch + ".");
    ModelConfig c;
    c.arch = spec.name;
    c.dim = md.requiredInt("embedding_length");
    c.nLayers = md.requiredInt("block_count");
    c.ffnDim = md.requiredInt("feed_forward_length");
    c.nHeads = md.requiredInt("attention.head_count");
    c.nKvHeads = md.intField("attention.head_count_kv").value_or(c.nHeads);
    c.contextLength = md.requiredInt("context_length");
    if (const std::optional<int> kl = md.intField("attention.key_length"))
        c.headDim = *kl;
    else if (c.nHeads > 0 && c.dim % c.nHeads == 0)
        c.headDim = c.dim / c.nHeads;
    else
        fail("no " + ggufArch + ".attention.key_length and embedding_length " + std::to_string(c.dim) +
             " is not a multiple of head_count " + std::to_string(c.nHeads));
    c.ropeDim = md.intField("rope.dimension_count").value_or(c.headDim);
    const std::optional<double> eps = md.floatField("attention.layer_norm_rms_epsilon");
    if (!eps)
        fail("missing key " + ggufArch + ".attention.layer_norm_rms_epsilon");
    c.normEps = float(*eps);
    c.ropeTheta = float(md.floatField("rope.freq_base").value_or(10000.0));
    c.ropeScaling = ropeScaling(file, ggufArch);
    c.ropeLayout = spec.ggufRopeLayout;
    c.qkvBias = spec.qkvBias;
    c.qkNorm = spec.qkNorm;
    c.tiedEmbeddings = file.tensor("output.weight") == nullptr;

    if (const TensorView *embd = file.tensor("token_embd.weight"); embd && embd->shape.size() == 2) {
        if (embd->shape[0] > INT_MAX)
            fail("tensor token_embd.weight: " + std::to_string(embd->shape[0]) + " rows is out of range");
        c.vocabSize = int(embd->shape[0]);
    } else if (const std::optional<int> v = md.intField("vocab_size")) {
        c.vocabSize = *v;
    } else {
        fail("no token_embd.weight tensor and no " + ggufArch + ".vocab_size key");
    }

    c.bosId = tokenId(file, "tokenizer.ggml.bos_token_id");
    c.eosId = tokenId(file, "tokenizer.ggml.eos_token_id");
    for (const char *key : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id",
                            "tokenizer.ggml.eom_token_id"}) {
        const int id = tokenId(file, key);
        if (id >= 0 && id < c.vocabSize && std::find(c.stopIds.begin(), c.stopIds.end(), id) == c.stopIds.end())
            c.stopIds.push_back(id);
    }
    return c;
}

} // namespace

LoadedModel loadGgufModel(const std::string &path)
{
    std::shared_ptr<const GgufFile> file = GgufFile::open(path); // its errors name the path
    try {
        const std::optional<std::string> ggufArch = file->getString("general.architecture");
        if (!ggufArch)
            fail("missing key general.architecture");
        const ArchSpec *spec = findArchByGguf(*ggufArch);
        if (!spec)
            fail("unknown architecture '" + ggufArch->substr(0, 64) + "' (supported: " + supportedArchNames() + ")");
        LoadedModel m;
        m.config = readConfig(*file, *spec, *ggufArch);
        m.config.validate();
        for (const TensorView &t : file->tensors())
            m.weights.add(t);
        m.weights.keepAlive(file->owner());
        validateWeights(m.config, m.weights);
        m.format = ModelFormat::Gguf;
        m.path = path;
        m.gguf = std::move(file);
        return m;
    } catch (const OutOfMemoryError &) {
        throw;
    } catch (const Error &e) {
        // GgufFile's getters already name the file; everything else gets it here.
        const std::string msg = e.what();
        throw Error(msg.rfind(path + ": ", 0) == 0 ? msg : path + ": " + msg);
    }
}

} // namespace lathe
