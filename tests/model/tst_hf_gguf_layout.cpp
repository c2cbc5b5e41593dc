// The HF folder of random_llama_d256 against llama.cpp's GGUF of the same weights: an
// independent check of our tensor-name mapping and of the q/k row layout. HF keeps q/k
// rows in rotate-half order (pairs i, i + D/2); llama.cpp's converter permutes them to
// interleaved pairs (2i, 2i + 1). So GGUF row h*D + 2i + j is HF row h*D + j*D/2 + i.
#include "Fixtures.h"

#include "core/Half.h"
#include "model/LoadedModel.h"
#include "model/gguf/GgufFile.h"

#include <QtTest>

using namespace lathe;

namespace {

// Tolerance: none beyond the dtype change. The HF file is F16 and the GGUF F32, so each
// HF value must be exactly the round-to-nearest-even f16 of the GGUF value (for this
// fixture the GGUF values are f16-representable, so this is plain equality).
bool rowMatches(const TensorView &hf, int64_t hfRow, const TensorView &gguf, int64_t ggufRow)
{
    const auto *h = reinterpret_cast<const uint16_t *>(hf.row(hfRow));
    const auto *g = reinterpret_cast<const float *>(gguf.row(ggufRow));
    for (int64_t c = 0; c < hf.cols(); ++c)
        if (f32ToF16(g[c]) != h[c])
            return false;
    return true;
}

} // namespace

class TestHfGgufLayout : public QObject
{
    Q_OBJECT
private:
    LoadedModel m_hf;
    std::shared_ptr<const GgufFile> m_gguf;

private slots:
    void initTestCase()
    {
        m_hf = loadHfModel(test::fixture("golden/random_llama_d256/hf"));
        m_gguf = GgufFile::open(test::fixture("golden/random_llama_d256/models/random_llama_d256-F32.gguf"));
    }

    void sameTensorSet()
    {
        QCOMPARE(m_hf.weights.count(), m_gguf->tensors().size());
        for (const TensorView &g : m_gguf->tensors()) {
            const TensorView *h = m_hf.weights.find(g.name);
            QVERIFY2(h, g.name.c_str());
            QCOMPARE(h->shape, g.shape);
            QCOMPARE(h->dtype, DType::F16);
            QCOMPARE(g.dtype, DType::F32);
        }
    }

    void unpermutedTensorsEqual()
    {
        for (const TensorView &g : m_gguf->tensors()) {
            if (g.name.find("attn_q.") != std::string::npos || g.name.find("attn_k.") != std::string::npos)
                continue;
            const TensorView &h = m_hf.weights.get(g.name);
            for (int64_t r = 0; r < g.rows(); ++r)
                QVERIFY2(rowMatches(h, r, g, r), (g.name + " row " + std::to_string(r)).c_str());
        }
    }

    void qkRowsArePermuted()
    {
        const int64_t D = m_hf.config.headDim;
        int identityMismatches = 0;
        for (int l = 0; l < m_hf.config.nLayers; ++l) {
            for (const char *which : {"attn_q.weight", "attn_k.weight"}) {
                const std::string name = "blk." + std::to_string(l) + "." + which;
                const TensorView &h = m_hf.weights.get(name);
                const TensorView &g = *m_gguf->tensor(name);
                for (int64_t head = 0; head < g.rows() / D; ++head)
                    for (int64_t i = 0; i < D / 2; ++i)
                        for (int64_t j = 0; j < 2; ++j) {
                            const int64_t ggufRow = head * D + 2 * i + j;
                            const int64_t hfRow = head * D + j * D / 2 + i;
                            QVERIFY2(rowMatches(h, hfRow, g, ggufRow),
                                     (name + " gguf row " + std::to_string(ggufRow)).c_str());
                            identityMismatches += !rowMatches(h, ggufRow, g, ggufRow);
                        }
            }
        }
        // The check discriminates: reading the rows in place would be wrong for all but
        // the fixed points of the permutation (rows 0 and D-1 of each head).
        const int64_t rowsPerLayer = int64_t(m_hf.config.nHeads + m_hf.config.nKvHeads) * D;
        const int64_t heads = m_hf.config.nHeads + m_hf.config.nKvHeads;
        QCOMPARE(int64_t(identityMismatches), m_hf.config.nLayers * (rowsPerLayer - 2 * heads));
    }
};

QTEST_GUILESS_MAIN(TestHfGgufLayout)
#include "tst_hf_gguf_layout.moc"
