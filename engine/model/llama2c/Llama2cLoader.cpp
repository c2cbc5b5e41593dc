// loadLlama2cModel(): a legacy llama2.c checkpoint (Karpathy's run.c "version 0"):
// 7 int32 header fields (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size,
// seq_len; a negative vocab_size means the classifier is stored separately), then fp32
// arrays in run.c order. run.c's matmul reads W[i * n + j] for output i and input j,
// so every per-layer block is already [out_rows, in_cols] row-major, our convention:
// the views are sliced straight from the mapping. q/k rotate interleaved pairs.
#include "core/Error.h"
#include "core/MappedFile.h"
#include "model/LoadedModel.h"
#include "model/WeightNames.h"

#include <cstring>

namespace lathe {

namespace {

constexpr size_t kHeaderBytes = 7 * sizeof(int32_t);

std::string toString(unsigned __int128 v)
{
    if (v == 0)
        return "0";
    std::string s;
    while (v > 0) {
        s.insert(s.begin(), char('0' + int(v % 10)));
        v /= 10;
    }
    return s;
}

struct Header
{
    int32_t dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen;
};

// Slices consecutive fp32 arrays off the mapping; the total was checked beforehand.
class Slicer
{
public:
    Slicer(const uint8_t *base, Weights &weights) : m_ptr(base), m_weights(weights) {}

    const uint8_t *take(int64_t elements)
    {
        const uint8_t *p = m_ptr;
        m_ptr += size_t(elements) * sizeof(float);
        return p;
    }
    // n consecutive per-layer blocks of shape [rows, cols] (or [rows] when cols == 0).
    void perLayer(const char *suffix, int layers, int64_t rows, int64_t cols)
    {
        for (int l = 0; l < layers; ++l)
            add("blk." + std::to_string(l) + "." + suffix, rows, cols);
    }
    void add(const std::string &name, int64_t rows, int64_t cols)
    {
        TensorView v;
        v.name = name;
        v.dtype = DType::F32;
        v.shape = cols > 0 ? std::vector<int64_t>{rows, cols} : std::vector<int64_t>{rows};
        v.bytes = size_t(rows * (cols > 0 ? cols : 1)) * sizeof(float);
        v.data = take(rows * (cols > 0 ? cols : 1));
        m_weights.add(std::move(v));
    }

private:
    const uint8_t *m_ptr;
    Weights &m_weights;
};

} // namespace

LoadedModel loadLlama2cModel(const std::string &path, const LoadOptions &options)
{
    (void)options; // the tokenizer.bin path is read by the tokenizer, not here
    return withContext("loading " + path, [&] {
        std::shared_ptr<const MappedFile> file = MappedFile::open(path);
        if (file->size() < kHeaderBytes)
            fail("file of " + std::to_string(file->size()) + " bytes is too small for a llama2.c header (28 bytes)");
        Header h;
        std::memcpy(&h, file->data(), kHeaderBytes); // little-endian hosts only, like run.c
        const bool shared = h.vocabSize > 0;
        const int64_t vocab = h.vocabSize < 0 ? -int64_t(h.vocabSize) : h.vocabSize;
        const std::string fields = "dim " + std::to_string(h.dim) + ", hidden_dim " + std::to_string(h.hiddenDim) +
                                   ", n_layers " + std::to_string(h.nLayers) + ", n_heads " + std::to_string(h.nHeads) +
                                   ", n_kv_heads " + std::to_string(h.nKvHeads) + ", vocab_size " +
                                   std::to_string(h.vocabSize) + ", seq_len " + std::to_string(h.seqLen);
        if (h.dim <= 0 || h.hiddenDim <= 0 || h.nLayers <= 0 || h.nHeads <= 0 || h.nKvHeads <= 0 || vocab == 0 ||
            h.seqLen <= 0)
            fail("header (" + fields + ") has a field that is not positive; not a llama2.c checkpoint?");
        if (h.dim % h.nHeads != 0 || h.nHeads % h.nKvHeads != 0)
            fail("header (" + fields + "): n_heads must divide dim and n_kv_heads must divide n_heads");
        const int64_t C = h.dim, F = h.hiddenDim, L = h.nLayers, D = h.dim / h.nHeads;
        const int64_t q = int64_t(h.nHeads) * D, kv = int64_t(h.nKvHeads) * D;
        if (D % 2 != 0)
            fail("header (" + fields + "): head size " + std::to_string(D) + " is odd");

        // Sizes from 32-bit fields reach 2^93, so they are summed in 128 bits and
        // compared with the file before anything is sliced.
        using U128 = unsigned __int128;
        const U128 floats = U128(vocab) * C + U128(L) * C + U128(L) * C * q + 2 * U128(L) * C * kv +
                            U128(L) * q * C + U128(L) * C + 3 * U128(L) * F * C + U128(C) +
                            2 * U128(h.seqLen) * U128(D / 2) + (shared ? 0 : U128(vocab) * C);
        const U128 expected = U128(kHeaderBytes) + floats * sizeof(float);
        if (expected != U128(file->size()))
            fail("header (" + fields + ") needs " + toString(expected) + " bytes, the file has " +
                 std::to_string(file->size()) + " bytes");

        LoadedModel model;
        model.format = ModelFormat::Llama2c;
        model.path = path;
        ModelConfig &c = model.config;
        c.arch = "llama";
        c.vocabSize = int(vocab);
        c.dim = h.dim;
        c.nLayers = h.nLayers;
        c.nHeads = h.nHeads;
        c.nKvHeads = h.nKvHeads;
        c.headDim = int(D);
        c.ffnDim = h.hiddenDim;
        c.contextLength = h.seqLen;
        c.normEps = 1e-5f;       // run.c's rmsnorm
        c.ropeTheta = 10000.0f;  // run.c's RoPE
        c.ropeDim = int(D);
        c.ropeLayout = RopeLayout::Interleaved;
        c.tiedEmbeddings = shared;
        c.bosId = 1; // llama2.c's sentencepiece vocabularies: <s> = 1, </s> = 2
        c.eosId = 2;
        c.stopIds = {2};
        c.validate();

        Slicer s(file->data() + kHeaderBytes, model.weights);
        const int n = h.nLayers;
        s.add("token_embd.weight", vocab, C);
        s.perLayer("attn_norm.weight", n, C, 0);
        s.perLayer("attn_q.weight", n, q, C);
        s.perLayer("attn_k.weight", n, kv, C);
        s.perLayer("attn_v.weight", n, kv, C);
        s.perLayer("attn_output.weight", n, C, q);
        s.perLayer("ffn_norm.weight", n, C, 0);
        s.perLayer("ffn_gate.weight", n, F, C); // w1
        s.perLayer("ffn_down.weight", n, C, F); // w2
        s.perLayer("ffn_up.weight", n, F, C);   // w3
        s.add("output_norm.weight", C, 0);
        s.take(2 * int64_t(h.seqLen) * (D / 2)); // freq_cis_real/imag: unused, RoPE is recomputed
        if (!shared)
            s.add("output.weight", vocab, C);
        model.weights.keepAlive(file);
        validateWeights(c, model.weights);
        return model;
    });
}

} // namespace lathe
