// ModelConfig: everything the forward pass needs to know about a decoder-only
// transformer, independent of the file it came from. Loaders fill it from GGUF
// metadata, config.json or a llama2.c header and then call validate().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lathe {

// How rotary pairs are formed inside a head of D dims.
//  Interleaved: pairs (2i, 2i+1): llama2.c, GGUF "llama" (the converter permutes q/k).
//  RotateHalf:  pairs (i, i + D/2): Hugging Face checkpoints, GGUF qwen2/qwen3 (NEOX).
enum class RopeLayout : uint8_t { Interleaved = 0, RotateHalf = 1 };

struct RopeScaling
{
    enum class Kind : uint8_t { None = 0, Linear = 1, Llama3 = 2 };
    Kind kind = Kind::None;
    float factor = 1.0f;
    float lowFreqFactor = 1.0f;  // llama3 only
    float highFreqFactor = 4.0f; // llama3 only
    int originalContext = 8192;  // llama3 only
};

struct ModelConfig
{
    std::string arch; // a registered architecture name: "llama", "qwen2", "qwen3", ...
    int vocabSize = 0;
    int dim = 0;      // hidden size C
    int nLayers = 0;
    int nHeads = 0;
    int nKvHeads = 0; // GQA/MQA when < nHeads
    int headDim = 0;  // usually dim / nHeads
    int ffnDim = 0;
    int contextLength = 0;
    float normEps = 1e-5f;
    float ropeTheta = 10000.0f;
    int ropeDim = 0; // rotated dims per head (== headDim unless partial rotary)
    RopeLayout ropeLayout = RopeLayout::Interleaved;
    RopeScaling ropeScaling;
    bool tiedEmbeddings = false;
    bool qkvBias = false; // qwen2
    bool qkNorm = false;  // qwen3: RMSNorm over each q/k head before RoPE
    int bosId = -1;
    int eosId = -1;
    std::vector<int> stopIds; // EOS plus end-of-turn tokens (eot, im_end, ...)

    // Throws Error naming the first field that is missing, zero, inconsistent
    // (heads not dividing, kv heads not dividing heads) or absurd (beyond limits that
    // would make allocation sizes overflow).
    void validate() const;

    // Parameter count and bytes of one KV-cache position (f32), for `info` and planners.
    int64_t parameterCount() const;
    int64_t kvBytesPerPosition(int bytesPerElement = 4) const;
};

} // namespace lathe
