// llama2.c checkpoints: the real stories260K file (config from the fixture README),
// a synthetic checkpoint whose arrays carry their run.c position as values (so any
// mix-up of order, layer slicing or the skipped freq_cis tables shows), and hostile
// headers that must fail with a message and without allocating.
#include "Fixtures.h"

#include "core/Error.h"
#include "model/LoadedModel.h"

#include <QtTest>
#include <cstring>
#include <fstream>
#include <vector>

using namespace lathe;

namespace {

struct Dims
{
    int32_t dim, hidden, layers, heads, kvHeads, vocab, seqLen;
};

void writeFile(const QString &path, const std::vector<char> &bytes)
{
    std::ofstream out(path.toStdString(), std::ios::binary);
    out.write(bytes.data(), std::streamsize(bytes.size()));
}

std::vector<char> headerBytes(const Dims &d)
{
    std::vector<char> b(sizeof(Dims));
    std::memcpy(b.data(), &d, sizeof(Dims));
    return b;
}

// Array k of run.c's order, layer l (0 for global arrays), holds the value 100*k + l.
std::vector<char> syntheticCheckpoint(const Dims &d)
{
    std::vector<char> b = headerBytes(d);
    const int64_t C = d.dim, F = d.hidden, L = d.layers, D = d.dim / d.heads, V = std::abs(d.vocab);
    const int64_t q = d.heads * D, kv = d.kvHeads * D;
    auto push = [&](int k, int64_t layers, int64_t perLayer) {
        for (int64_t l = 0; l < layers; ++l)
            for (int64_t i = 0; i < perLayer; ++i) {
                const float v = float(100 * k + l);
                const char *p = reinterpret_cast<const char *>(&v);
                b.insert(b.end(), p, p + 4);
            }
    };
    push(0, 1, V * C);      // token_embedding_table
    push(1, L, C);          // rms_att_weight
    push(2, L, q * C);      // wq
    push(3, L, kv * C);     // wk
    push(4, L, kv * C);     // wv
    push(5, L, C * q);      // wo
    push(6, L, C);          // rms_ffn_weight
    push(7, L, F * C);      // w1
    push(8, L, C * F);      // w2
    push(9, L, F * C);      // w3
    push(10, 1, C);         // rms_final_weight
    push(11, 1, d.seqLen * D / 2); // freq_cis_real
    push(12, 1, d.seqLen * D / 2); // freq_cis_imag
    if (d.vocab < 0)
        push(13, 1, V * C); // wcls
    return b;
}

float first(const TensorView &t) { return *static_cast<const float *>(t.data); }
float last(const TensorView &t) { return static_cast<const float *>(t.data)[t.numel() - 1]; }

} // namespace

class TestLlama2cLoader : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    void expectError(const std::vector<char> &bytes, const char *substring)
    {
        const QString path = m_dir.filePath("bad.bin");
        writeFile(path, bytes);
        try {
            loadLlama2cModel(path.toStdString(), {});
            QFAIL(qPrintable(QString("no error, expected '%1'").arg(substring)));
        } catch (const Error &e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find(substring) != std::string::npos, e.what());
            QVERIFY2(msg.find("bad.bin") != std::string::npos, e.what()); // names the file
        }
    }

private slots:
    void stories260K()
    {
        const LoadedModel m = loadLlama2cModel(test::fixture("models/stories260K/stories260K.bin"), {});
        const ModelConfig &c = m.config;
        // Values from the fixture README (Karpathy's published config).
        QCOMPARE(c.arch, std::string("llama"));
        QCOMPARE(c.dim, 64);
        QCOMPARE(c.nLayers, 5);
        QCOMPARE(c.nHeads, 8);
        QCOMPARE(c.nKvHeads, 4);
        QCOMPARE(c.headDim, 8);
        QCOMPARE(c.ffnDim, 172);
        QCOMPARE(c.vocabSize, 512);
        QCOMPARE(c.contextLength, 512);
        QVERIFY(c.tiedEmbeddings);
        QCOMPARE(c.ropeLayout, RopeLayout::Interleaved);
        QCOMPARE(c.ropeTheta, 10000.0f);
        QCOMPARE(c.normEps, 1e-5f);
        QCOMPARE(c.bosId, 1);
        QCOMPARE(c.eosId, 2);
        QCOMPARE(m.format, ModelFormat::Llama2c);
        QCOMPARE(m.weights.count(), size_t(2 + 5 * 9));
        QCOMPARE(m.weights.get("blk.4.attn_k.weight").shape, (std::vector<int64_t>{32, 64}));
        QCOMPARE(m.weights.get("blk.0.ffn_down.weight").shape, (std::vector<int64_t>{64, 172}));
        QVERIFY(!m.weights.find("output.weight"));
        // RMSNorm gains of a trained model are positive and O(1); a slice that is off
        // by one array would land in projection weights centred on zero.
        const TensorView &norm = m.weights.get("output_norm.weight");
        for (int64_t i = 0; i < norm.numel(); ++i)
            QVERIFY(static_cast<const float *>(norm.data)[i] > 0.0f);
    }

    void syntheticOrderShared()
    {
        const Dims d{8, 12, 3, 4, 2, 10, 6};
        const QString path = m_dir.filePath("synthetic.bin");
        writeFile(path, syntheticCheckpoint(d));
        const LoadedModel m = loadLlama2cModel(path.toStdString(), {});
        QVERIFY(m.config.tiedEmbeddings);
        QCOMPARE(first(m.weights.get("token_embd.weight")), 0.0f);
        const char *names[] = {"attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                               "ffn_norm", "ffn_gate", "ffn_down", "ffn_up"};
        for (int k = 1; k <= 9; ++k)
            for (int l = 0; l < 3; ++l) {
                const TensorView &t = m.weights.get("blk." + std::to_string(l) + "." + names[k - 1] + ".weight");
                QCOMPARE(first(t), float(100 * k + l));
                QCOMPARE(last(t), float(100 * k + l));
            }
        QCOMPARE(m.weights.get("blk.1.attn_k.weight").shape, (std::vector<int64_t>{4, 8}));
        QCOMPARE(m.weights.get("blk.1.ffn_down.weight").shape, (std::vector<int64_t>{8, 12}));
        QCOMPARE(first(m.weights.get("output_norm.weight")), 1000.0f);
    }

    void syntheticUnsharedClassifier()
    {
        const Dims d{8, 12, 2, 2, 2, -10, 4};
        const QString path = m_dir.filePath("unshared.bin");
        writeFile(path, syntheticCheckpoint(d));
        const LoadedModel m = loadLlama2cModel(path.toStdString(), {});
        QVERIFY(!m.config.tiedEmbeddings);
        QCOMPARE(m.config.vocabSize, 10);
        const TensorView &out = m.weights.get("output.weight");
        QCOMPARE(out.shape, (std::vector<int64_t>{10, 8}));
        QCOMPARE(first(out), 1300.0f); // after both freq_cis tables
        QCOMPARE(last(out), 1300.0f);
    }

    void truncatedFile()
    {
        std::vector<char> b = syntheticCheckpoint({8, 12, 2, 2, 2, 10, 4});
        const size_t full = b.size();
        b.erase(b.end() - 4, b.end()); // (erase, not resize: GCC 12 warns falsely on a shrinking resize)
        expectError(b, ("needs " + std::to_string(full) + " bytes, the file has " + std::to_string(full - 4)).c_str());
        b.erase(b.begin() + 10, b.end());
        expectError(b, "too small for a llama2.c header");
    }

    void trailingBytes()
    {
        std::vector<char> b = syntheticCheckpoint({8, 12, 2, 2, 2, 10, 4});
        b.push_back(0);
        expectError(b, "bytes, the file has");
    }

    void negativeDims()
    {
        expectError(headerBytes({-64, 172, 5, 8, 4, 512, 512}), "not positive");
        expectError(headerBytes({64, 172, 0, 8, 4, 512, 512}), "not positive");
        expectError(headerBytes({64, 172, 5, 8, -4, 512, 512}), "not positive");
    }

    void headsMustDivide()
    {
        expectError(headerBytes({64, 172, 5, 7, 7, 512, 512}), "n_heads must divide dim");
        expectError(headerBytes({64, 172, 5, 8, 3, 512, 512}), "n_kv_heads must divide n_heads");
    }

    void absurdDims()
    {
        // 2^30 wide with 2^30 layers: the size check must fail before any allocation
        // (the expected size is ~2^93 bytes and must not wrap around in 64 bits).
        expectError(headerBytes({1 << 30, 1 << 30, 1 << 30, 1, 1, 1 << 30, 1 << 30}), "the file has 28 bytes");
        expectError(headerBytes({1 << 30, 172, 5, 8, 4, 512, 512}), "the file has 28 bytes");
    }
};

QTEST_GUILESS_MAIN(TestLlama2cLoader)
#include "tst_llama2c_loader.moc"
