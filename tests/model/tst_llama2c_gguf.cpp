// stories260K.bin (llama2.c) against stories260Ktok512.gguf, the same weights converted
// by llama.cpp's llama2c converter. llama2.c already rotates interleaved pairs, which
// is GGUF llama's layout, so the converter writes every tensor unchanged, q/k included
// (checked here bit for bit: a permutation or a slicing error would show).
#include "Fixtures.h"

#include "model/LoadedModel.h"
#include "model/gguf/GgufFile.h"

#include <QtTest>
#include <cstring>

using namespace lathe;

class TestLlama2cGguf : public QObject
{
    Q_OBJECT
private slots:
    void weightsEqualGguf()
    {
        const LoadedModel m = loadLlama2cModel(test::fixture("models/stories260K/stories260K.bin"), {});
        const auto g = GgufFile::open(test::fixture("models/stories260K/stories260Ktok512.gguf"));
        // The converter also writes the tied head as output.weight; ours is tied.
        QVERIFY(m.config.tiedEmbeddings);
        QCOMPARE(m.weights.count() + 1, g->tensors().size());
        for (const std::string &name : m.weights.names()) {
            const TensorView &a = m.weights.get(name);
            const TensorView *b = g->tensor(name);
            QVERIFY2(b, name.c_str());
            QCOMPARE(a.shape, b->shape);
            QCOMPARE(b->dtype, DType::F32);
            // Tolerance: none; both hold the checkpoint's fp32 values unchanged.
            QVERIFY2(std::memcmp(a.data, b->data, a.bytes) == 0, name.c_str());
        }
        const TensorView &head = *g->tensor("output.weight");
        const TensorView &embd = m.weights.get("token_embd.weight");
        QCOMPARE(head.shape, embd.shape);
        QVERIFY(std::memcmp(head.data, embd.data, embd.bytes) == 0);
    }
};

QTEST_GUILESS_MAIN(TestLlama2cGguf)
#include "tst_llama2c_gguf.moc"
