#include "model/ModelConfig.h"

#include "core/Error.h"
#include "model/ArchSpec.h"

namespace lathe {

namespace {

// Limits far above any real model, low enough that products of them fit in int64.
constexpr int kMaxDim = 1 << 17;
constexpr int kMaxVocab = 1 << 22;
constexpr int kMaxLayers = 1024;
constexpr int kMaxHeads = 4096;
constexpr int kMaxContext = 1 << 24;

void requireRange(const char *field, int64_t value, int64_t lo, int64_t hi)
{
    if (value < lo || value > hi)
        fail(std::string("config field ") + field + " = " + std::to_string(value) + " is outside [" +
             std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

} // namespace

void ModelConfig::validate() const
{
    if (!findArch(arch))
        fail("unknown architecture '" + arch + "' (supported: " + supportedArchNames() + ")");
    requireRange("vocab_size", vocabSize, 1, kMaxVocab);
    requireRange("dim", dim, 1, kMaxDim);
    requireRange("n_layers", nLayers, 1, kMaxLayers);
    requireRange("n_heads", nHeads, 1, kMaxHeads);
    requireRange("n_kv_heads", nKvHeads, 1, nHeads);
    requireRange("head_dim", headDim, 1, kMaxDim);
    requireRange("ffn_dim", ffnDim, 1, 8 * kMaxDim);
    requireRange("context_length", contextLength, 1, kMaxContext);
    requireRange("rope_dim", ropeDim, 0, headDim);
    if (nHeads % nKvHeads != 0)
        fail("config: n_heads " + std::to_string(nHeads) + " is not a multiple of n_kv_heads " +
             std::to_string(nKvHeads));
    if (ropeDim % 2 != 0)
        fail("config: rope_dim " + std::to_string(ropeDim) + " is odd");
    if (!(normEps > 0.0f && normEps < 1.0f))
        fail("config: norm epsilon " + std::to_string(normEps) + " is not in (0, 1)");
    if (!(ropeTheta > 0.0f))
        fail("config: rope theta " + std::to_string(ropeTheta) + " is not positive");
    if (bosId >= vocabSize || eosId >= vocabSize)
        fail("config: bos/eos token id outside the vocabulary of " + std::to_string(vocabSize));
    for (int id : stopIds)
        if (id < 0 || id >= vocabSize)
            fail("config: stop token id " + std::to_string(id) + " outside the vocabulary");
}

int64_t ModelConfig::parameterCount() const
{
    const int64_t C = dim, F = ffnDim, V = vocabSize;
    const int64_t q = int64_t(nHeads) * headDim, kv = int64_t(nKvHeads) * headDim;
    int64_t perLayer = C * q + 2 * C * kv + q * C + 3 * C * F + 2 * C;
    if (qkvBias)
        perLayer += q + 2 * kv;
    if (qkNorm)
        perLayer += 2 * headDim;
    return V * C * (tiedEmbeddings ? 1 : 2) + C + perLayer * nLayers;
}

int64_t ModelConfig::kvBytesPerPosition(int bytesPerElement) const
{
    return int64_t(2) * nLayers * nKvHeads * headDim * bytesPerElement;
}

} // namespace lathe
