// Merging a LoRA adapter into its base: the merged weights follow W' = W + s·B·A, and the
// merged model, written as GGUF and as a Hugging Face folder and run by the inference
// engine (engine/infer), gives the logits the training model gives with the adapter
// applied (acceptance 6: within 1e-4 in F32).
#include "TrainFixtures.h"
#include "backend/cpu/CpuDevice.h"
#include "core/Error.h"
#include "core/ThreadPool.h"
#include "infer/Rng.h"
#include "infer/Session.h"
#include "train/checkpoint/PeftAdapter.h"
#include "train/merge/MergeLora.h"

#include <QtTest>
#include <cmath>

using namespace lathe;
using namespace lathe::test;

class TestMerge : public QObject
{
    Q_OBJECT
private:
    std::shared_ptr<const LoadedModel> m_base;
    std::unique_ptr<ThreadPool> m_pool;
    std::unique_ptr<TrainModel<float>> m_model;
    LoraSpec m_lora;
    QTemporaryDir m_tmp;
    std::string m_adapterDir;
    std::vector<int32_t> m_tokens;

    // Logits [T, V] of the training model (adapters applied) over m_tokens as one row.
    std::vector<float> adapterLogits()
    {
        TrainBatch b;
        b.rows = 1;
        b.seqLen = int64_t(m_tokens.size());
        b.tokens = m_tokens;
        b.targets.assign(m_tokens.size(), kIgnoreIndex);
        b.segments.assign(m_tokens.size(), 0);
        for (size_t t = 0; t < m_tokens.size(); ++t)
            b.positions.push_back(int32_t(t));
        std::vector<float> out;
        m_model->logits(b, out);
        return out;
    }

    std::vector<float> engineLogits(const std::string &path)
    {
        auto model = std::make_shared<const LoadedModel>(loadModel(path));
        Session s(model, std::make_shared<CpuDevice>(1), {int64_t(m_tokens.size()), DType::F32});
        return s.prefillAll(m_tokens);
    }

    static double maxAbsDiff(const std::vector<float> &a, const std::vector<float> &b)
    {
        if (a.size() != b.size())
            return INFINITY;
        double d = 0.0;
        for (size_t i = 0; i < a.size(); ++i)
            d = std::max(d, double(std::abs(a[i] - b[i])));
        return d;
    }

private slots:
    void initTestCase()
    {
        m_base = storiesModel();
        m_pool = std::make_unique<ThreadPool>(2);
        m_lora.rank = 4;
        m_lora.alpha = 12; // s = 3
        m_lora.targets = loraModuleNames();
        TrainModelOptions o;
        o.lora = m_lora;
        o.seed = 5;
        m_model = std::make_unique<TrainModel<float>>(m_base->config, m_base->weights, o, m_pool.get());
        // B starts at zero (PEFT initialisation); give it values so the adapter matters.
        Rng rng(9);
        for (auto &p : m_model->params())
            if (p.name.size() > 7 && p.name.substr(p.name.size() - 7) == ".lora_B")
                for (float &v : p.value)
                    v = float(0.05 * (rng.uniform() * 2.0 - 1.0));
        m_adapterDir = m_tmp.filePath("adapter").toStdString();
        std::filesystem::create_directories(m_adapterDir);
        writePeftAdapter(m_adapterDir, m_base->config, m_lora, m_base->path, m_model->params());
        const Tokenizer tok = storiesTokenizer(*m_base);
        m_tokens = tok.encode("Once upon a time, there was a little girl named Lily. She loved to play outside.");
        QVERIFY(m_tokens.size() > 16);
    }

    void mergedWeightsFollowTheFormula()
    {
        const PeftAdapter a = readPeftAdapter(m_adapterDir, m_base->config);
        const Weights merged = mergeLoraWeights(*m_base, a, m_pool.get());
        // blk.2.ffn_up.weight [172, 64]: W' = W + 3 * B[172, 4] A[4, 64], summed here directly.
        const TensorView &w = m_base->weights.get("blk.2.ffn_up.weight");
        const TensorView &m = merged.get("blk.2.ffn_up.weight");
        QCOMPARE(m.dtype, DType::F32);
        QCOMPARE(m.shape, w.shape);
        const auto &A = a.matrices.at("layers.2.up_proj.lora_A").values;
        const auto &B = a.matrices.at("layers.2.up_proj.lora_B").values;
        const float *W = static_cast<const float *>(w.data), *M = static_cast<const float *>(m.data);
        double worst = 0.0;
        for (int o = 0; o < 172; ++o)
            for (int i = 0; i < 64; ++i) {
                double ba = 0.0;
                for (int k = 0; k < 4; ++k)
                    ba += double(B[size_t(o * 4 + k)]) * double(A[size_t(k * 64 + i)]);
                worst = std::max(worst, std::abs(double(M[o * 64 + i]) - (double(W[o * 64 + i]) + 3.0 * ba)));
            }
        QVERIFY2(worst < 1e-6, qPrintable(QString::number(worst)));
        // Untouched tensors stay the base's own views.
        QCOMPARE(merged.get("token_embd.weight").data, m_base->weights.get("token_embd.weight").data);
    }

    void mergedGgufMatchesAdapterLogits()
    {
        const std::string out = m_tmp.filePath("merged.gguf").toStdString();
        const MergeReport r = mergeLoraToFile(m_base->path, m_adapterDir, out, DType::F32, m_pool.get());
        QCOMPARE(r.matrices, int64_t(5 * 7));
        QCOMPARE(r.scaling, 3.0);
        const std::vector<float> want = adapterLogits(), got = engineLogits(out);
        const double d = maxAbsDiff(want, got);
        qInfo("merged GGUF vs base + adapter: max |logit difference| %.3g over %zu logits", d, want.size());
        QVERIFY2(d <= 1e-4, qPrintable(QString::number(d)));
        // And the adapter really changes the model (the comparison is not trivially true).
        const double fromBase = maxAbsDiff(want, engineLogits(m_base->path));
        QVERIFY2(fromBase > 0.05, qPrintable(QString::number(fromBase)));
    }

    void mergedHfFolderMatchesAdapterLogits()
    {
        // The folder stores q/k rows in Hugging Face order; loading converts them back.
        const std::string out = m_tmp.filePath("merged-hf").toStdString();
        mergeLoraToFile(m_base->path, m_adapterDir, out, DType::F32);
        const double d = maxAbsDiff(adapterLogits(), engineLogits(out));
        QVERIFY2(d <= 1e-4, qPrintable(QString::number(d)));
    }

    void adapterForAnotherModelRefused()
    {
        // An adapter whose shapes do not fit the model is refused before anything is written.
        const std::string dir = m_tmp.filePath("wide").toStdString();
        std::filesystem::create_directories(dir);
        ModelConfig wide = m_base->config;
        wide.dim = 128;
        LoraSpec l = m_lora;
        l.targets = {"q_proj"};
        std::vector<TrainParam<float>> ps;
        for (int layer = 0; layer < wide.nLayers; ++layer)
            for (char x : {'A', 'B'}) {
                TrainParam<float> p;
                p.name = loraParamName(layer, "q_proj", x);
                p.shape = loraShape(wide, "q_proj", x, l.rank);
                p.value.assign(size_t(p.shape[0] * p.shape[1]), 0.0f);
                ps.push_back(p);
            }
        writePeftAdapter(dir, wide, l, "other", ps);
        const std::string out = m_tmp.filePath("never.gguf").toStdString();
        try {
            mergeLoraToFile(m_base->path, dir, out, DType::F32);
            QFAIL("merged an adapter made for another model");
        } catch (const Error &e) {
            QVERIFY2(std::string(e.what()).find("shape") != std::string::npos, e.what());
        }
        QVERIFY(!std::filesystem::exists(out));
    }
};

QTEST_GUILESS_MAIN(TestMerge)
#include "tst_merge.moc"
