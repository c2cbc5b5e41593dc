// Random initialisation: one splitmix64 stream per tensor, normals by Box-Muller in
// double (then rounded to f32), so the same seed gives bit-identical weights everywhere.
#include "model/write/ModelInit.h"

#include "core/Error.h"
#include "model/WeightNames.h"

#include <cmath>
#include <new>

namespace lathe {

namespace {

class SplitMix64
{
public:
    explicit SplitMix64(uint64_t seed) : m_state(seed) {}
    uint64_t next()
    {
        uint64_t z = (m_state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    // Uniform in (0, 1]: never 0, so log() in Box-Muller stays finite.
    double uniformOpen() { return (double(next() >> 11) + 1.0) * 0x1.0p-53; }

private:
    uint64_t m_state;
};

// FNV-1a of the name, mixed with the seed: the tensor's own stream.
uint64_t streamSeed(uint64_t seed, const std::string &name)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char ch : name)
        h = (h ^ ch) * 0x100000001b3ull;
    return h ^ (seed * 0x9e3779b97f4a7c15ull);
}

void fillNormal(std::vector<float> &out, uint64_t seed, double mean, double stddev)
{
    constexpr double kTwoPi = 6.283185307179586476925286766559;
    SplitMix64 rng(seed);
    for (size_t i = 0; i < out.size(); i += 2) {
        const double r = std::sqrt(-2.0 * std::log(rng.uniformOpen()));
        const double t = kTwoPi * rng.uniformOpen();
        out[i] = float(mean + stddev * r * std::cos(t));
        if (i + 1 < out.size())
            out[i + 1] = float(mean + stddev * r * std::sin(t));
    }
}

bool endsWith(const std::string &s, const char *suffix)
{
    const std::string x(suffix);
    return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0;
}

} // namespace

Weights InitializedModel::views() const
{
    Weights w;
    for (const auto &[name, t] : tensors) {
        TensorView v;
        v.name = name;
        v.dtype = DType::F32;
        v.shape = t.shape;
        v.data = t.data.data();
        v.bytes = t.data.size() * sizeof(float);
        w.add(v);
    }
    return w;
}

int64_t InitializedModel::parameterCount() const
{
    int64_t n = 0;
    for (const auto &entry : tensors)
        n += int64_t(entry.second.data.size());
    return n;
}

InitializedModel initModel(const ModelConfig &config, const InitOptions &options)
{
    config.validate();
    if (!(options.stddev > 0.0f) || !(options.normNoise >= 0.0f) || !(options.biasStd >= 0.0f))
        fail("init: standard deviations must be positive");
    InitializedModel model;
    model.config = config;
    const double residualScale = 1.0 / std::sqrt(2.0 * config.nLayers);
    for (const ExpectedTensor &e : expectedTensors(config)) {
        InitTensor t;
        t.shape = e.shape;
        int64_t n = 1;
        for (int64_t d : e.shape)
            n *= d;
        try {
            t.data.resize(size_t(n));
        } catch (const std::bad_alloc &) {
            throw OutOfMemoryError("init: cannot allocate " + std::to_string(n * 4) + " bytes for tensor " + e.name);
        }
        const uint64_t s = streamSeed(options.seed, e.name);
        if (endsWith(e.name, ".bias"))
            fillNormal(t.data, s, 0.0, options.biasStd);
        else if (e.isNormOrBias)
            fillNormal(t.data, s, 1.0, options.normNoise);
        else if (endsWith(e.name, "attn_output.weight") || endsWith(e.name, "ffn_down.weight"))
            fillNormal(t.data, s, 0.0, options.stddev * residualScale);
        else
            fillNormal(t.data, s, 0.0, options.stddev);
        model.tensors.emplace(e.name, std::move(t));
    }
    return model;
}

} // namespace lathe
