// The training loop on the real stories260K model: memorising 16 short texts with LoRA
// r=16, gradient accumulation equal to a bigger batch, resume giving bit-identical
// losses (F32 and NF4 bases), evaluation, budgets, cancellation, the metric stream, and
// refusal of a checkpoint made with another spec.
#include "TrainFixtures.h"
#include "core/Error.h"
#include "train/checkpoint/PeftAdapter.h"
#include "train/batch/BatchBuilder.h"
#include "train/loop/Trainer.h"

#include <QtTest>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

using namespace lathe;
using namespace lathe::test;

namespace {

// 16 prompt/completion pairs from the openings of wiki_demo.txt articles: the first three
// words are the prompt, the rest of the opening (to about `chars` characters) the answer.
std::vector<std::pair<std::string, std::string>> sixteenPairs(size_t chars)
{
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string &line : textLines("datasets/llamafactory/wiki_demo.txt", 16, chars)) {
        size_t cut = 0;
        for (int w = 0; w < 3; ++w)
            cut = line.find(' ', cut + 1);
        out.push_back({line.substr(0, cut), line.substr(cut)});
    }
    return out;
}

std::vector<double> losses(Trainer &t, int64_t from = 0)
{
    std::vector<double> out;
    t.run([&](const TrainMetrics &m) {
        if (m.trained && m.step > from)
            out.push_back(m.loss);
        return true;
    });
    return out;
}

} // namespace

class TestTrainer : public QObject
{
    Q_OBJECT
private:
    std::shared_ptr<const LoadedModel> m_model;
    std::unique_ptr<Tokenizer> m_tok;

    PreparedSplits sixteen() const
    {
        PreparedSplits p;
        p.train = tokenizePairs(*m_tok, sixteenPairs(64));
        return p;
    }

private slots:
    void initTestCase()
    {
        m_model = storiesModel();
        m_tok = std::make_unique<Tokenizer>(storiesTokenizer(*m_model));
    }

    void overfitSixteenExamples()
    {
        // Acceptance 2: 16 short prompt/completion pairs (out of domain for a TinyStories
        // model) memorised by LoRA r=16 on all linear layers: training loss below 0.05, and
        // every completion token is the model's top prediction after training.
        RunSpec spec = loraSpec(16, 5e-3, 100);
        spec.warmupSteps = 10;
        spec.batch.microBatch = 16;
        spec.batch.seqLen = 32;
        spec.batch.packing = false;
        spec.batch.shuffle = false;
        PreparedSplits data = sixteen();
        QCOMPARE(data.train.records(), int64_t(16));
        Trainer t(spec, m_model, data);
        const auto t0 = std::chrono::steady_clock::now();
        std::vector<double> curve;
        const TrainResult r = t.run([&](const TrainMetrics &m) {
            curve.push_back(m.loss);
            return true;
        });
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        QCOMPARE(r.reason, TrainStop::Completed);
        QCOMPARE(curve.size(), size_t(100));
        int64_t below = 0;
        while (below < int64_t(curve.size()) && curve[size_t(below)] >= 0.05)
            ++below;
        qInfo("overfit: loss %.4f -> %.4f (first below 0.05 at step %lld) in 100 steps, %.2f s wall", curve.front(),
              curve.back(), (long long)below + 1, secs);
        QVERIFY2(curve.front() > 3.0, "the base model should not already know these texts");
        QVERIFY2(curve.back() < 0.05, qPrintable(QString("final training loss %1").arg(curve.back())));

        // The same batch through logits(): every target is the argmax.
        BatchOptions bo;
        bo.rows = 16;
        bo.seqLen = 32;
        bo.packing = false;
        bo.shuffle = false;
        BatchBuilder bb(data.train, bo);
        const TrainBatch b = bb.next().batch;
        std::vector<float> logits;
        t.model().logits(b, logits);
        const int64_t V = m_model->config.vocabSize;
        int64_t right = 0, total = 0;
        for (int64_t i = 0; i < b.size(); ++i) {
            if (b.targets[size_t(i)] == kIgnoreIndex)
                continue;
            const float *row = logits.data() + i * V;
            right += std::max_element(row, row + V) - row == b.targets[size_t(i)];
            ++total;
        }
        qInfo("overfit: %lld of %lld completion tokens are the top prediction", (long long)right, (long long)total);
        QVERIFY2(double(right) >= 0.98 * double(total), "the completions are not memorised");
    }

    void accumulationEqualsBiggerBatch()
    {
        // grad_accum 2 x micro_batch 2 sees the same records per step as 1 x 4, and its
        // gradient is that of the mean loss over the step's targets: the runs agree up to
        // float rounding (sums are split differently).
        PreparedSplits data = sixteen();
        RunSpec a = loraSpec(4, 3e-3, 4);
        a.batch.packing = false;
        a.batch.seqLen = 32;
        RunSpec b = a;
        b.batch.microBatch = 2;
        b.batch.gradAccum = 2;
        Trainer ta(a, m_model, data), tb(b, m_model, data);
        const std::vector<double> la = losses(ta), lb = losses(tb);
        QCOMPARE(la.size(), size_t(4));
        for (size_t i = 0; i < la.size(); ++i)
            QVERIFY2(std::abs(la[i] - lb[i]) <= 1e-5 * std::abs(la[i]),
                     qPrintable(QString("step %1: %2 vs %3").arg(i + 1).arg(la[i]).arg(lb[i])));
        QVERIFY(la.back() < la.front());
        const auto &pa = ta.model().params(), &pb = tb.model().params();
        double maxDiff = 0.0, maxAbs = 0.0;
        for (size_t i = 0; i < pa.size(); ++i)
            for (size_t k = 0; k < pa[i].value.size(); ++k) {
                maxDiff = std::max(maxDiff, double(std::abs(pa[i].value[k] - pb[i].value[k])));
                maxAbs = std::max(maxAbs, double(std::abs(pa[i].value[k])));
            }
        QVERIFY2(maxDiff <= 1e-4 * maxAbs, qPrintable(QString("params differ by %1 (scale %2)").arg(maxDiff).arg(maxAbs)));
    }

    void resumeIsBitIdentical_data()
    {
        QTest::addColumn<int>("baseFormat");
        QTest::newRow("f32 base") << int(BaseFormat::AsLoaded);
        QTest::newRow("nf4 base") << int(BaseFormat::Nf4);
    }

    void resumeIsBitIdentical()
    {
        // Acceptance 5: stop at step k = 5, resume from the checkpoint, and the next 20
        // steps' losses equal the uninterrupted run's bit for bit. Dropout, gradient
        // accumulation, warmup + cosine and shuffling across epochs are all on, so every
        // piece of saved state matters.
        QFETCH(int, baseFormat);
        QTemporaryDir tmp;
        PreparedSplits data = sixteen();
        RunSpec spec = loraSpec(4, 3e-3, 25);
        spec.baseFormat = BaseFormat(baseFormat);
        spec.adapter.dropout = 0.1;
        spec.batch.microBatch = 3;
        spec.batch.seqLen = 48;
        spec.batch.gradAccum = 2;
        spec.schedule = ScheduleKind::Cosine;
        spec.warmupSteps = 3;
        spec.optimizer.weightDecay = 0.01;
        std::vector<double> whole;
        {
            Trainer t(spec, m_model, data);
            whole = losses(t);
        }
        QCOMPARE(whole.size(), size_t(25));
        RunSpec first = spec;
        first.budget.maxSteps = 5;
        first.checkpoint.dir = tmp.path().toStdString();
        {
            Trainer t(first, m_model, data);
            const TrainResult r = t.run();
            QCOMPARE(r.reason, TrainStop::MaxSteps);
            QCOMPARE(r.steps, int64_t(5));
            QCOMPARE(r.lastCheckpoint, tmp.path().toStdString() + "/checkpoint-5");
        }
        Trainer resumed(spec, m_model, data);
        resumed.resume(tmp.path().toStdString());
        QCOMPARE(resumed.step(), int64_t(5));
        const std::vector<double> rest = losses(resumed, 5);
        QCOMPARE(rest.size(), size_t(20));
        for (size_t i = 0; i < rest.size(); ++i)
            QVERIFY2(rest[i] == whole[i + 5],
                     qPrintable(QString("step %1: resumed %2, uninterrupted %3").arg(i + 6).arg(rest[i], 0, 'g', 17).arg(whole[i + 5], 0, 'g', 17)));
    }

    void evaluationBudgetsAndMetrics()
    {
        PreparedSplits data = sixteen();
        data.validation = tokenizePairs(*m_tok, {{"Anarchism is a", " political philosophy"}, {"The cat", " sat on the mat"}});
        RunSpec spec = loraSpec(4, 3e-3, 50);
        spec.batch.seqLen = 32;
        spec.eval.every = 2;
        spec.budget.maxTokens = 500;
        Trainer t(spec, m_model, data);
        QVERIFY(t.hasValidation());
        const EvalResult before = t.evaluate();
        EncodeOptions plain;
        plain.addSpecial = false;
        const int64_t completionTokens = int64_t(m_tok->encode(" political philosophy", plain).size() +
                                                 m_tok->encode(" sat on the mat", plain).size());
        QCOMPARE(before.targets, completionTokens); // only completion tokens carry loss
        QCOMPARE(before.batches, int64_t(1));
        QVERIFY(std::abs(before.perplexity - std::exp(before.loss)) < 1e-9 * before.perplexity);
        std::vector<TrainMetrics> seen;
        const TrainResult r = t.run([&](const TrainMetrics &m) {
            seen.push_back(m);
            return true;
        });
        QCOMPARE(r.reason, TrainStop::MaxTokens);
        QVERIFY(!seen.empty());
        // The first record is the base model's evaluation.
        QVERIFY(!seen[0].trained && seen[0].evaluated);
        QCOMPARE(seen[0].evalLoss, before.loss);
        int64_t tokens = 0;
        int64_t trainable = 0;
        for (const auto &p : t.model().params())
            trainable += p.size();
        for (size_t i = 1; i < seen.size(); ++i) {
            const TrainMetrics &m = seen[i];
            QCOMPARE(m.step, int64_t(i));
            QCOMPARE(m.totalSteps, int64_t(50));
            QVERIFY(std::isfinite(m.loss) && m.loss > 0.0);
            QVERIFY(m.gradNorm > 0.0);
            QCOMPARE(m.lr, 3e-3);
            QVERIFY(m.tokens > 0 && m.targets > 0 && m.targets < m.tokens);
            tokens += m.tokens;
            QCOMPARE(m.tokensSeen, tokens);
            QVERIFY(m.tokensPerSecond > 0.0);
            QCOMPARE(m.evaluated, m.step % 2 == 0);
            // AdamW keeps two f32 moments per trainable value; the adapter holds values + grads.
            QCOMPARE(m.memory.optimizer, 8 * trainable);
            QVERIFY(m.memory.adapter >= 8 * trainable);
            QVERIFY(m.memory.weights > 0 && m.memory.activations > 0);
            QVERIFY(m.peakMemory.total() >= m.memory.total());
        }
        // Stopped at the first step that reached 500 tokens.
        QVERIFY(tokens >= 500 && tokens - seen.back().tokens < 500);
        QVERIFY(std::isfinite(r.lastEvalLoss));
    }

    void epochsSetTheLength()
    {
        // 16 records, one per row, 4 rows per micro-batch, 2 micro-batches per step:
        // 2 steps per epoch, so 2.5 epochs are 5 steps.
        PreparedSplits data = sixteen();
        RunSpec spec = loraSpec(4, 3e-3, 0);
        spec.steps = 0;
        spec.epochs = 2.5;
        spec.batch.packing = false;
        spec.batch.seqLen = 32;
        spec.batch.gradAccum = 2;
        Trainer t(spec, m_model, data);
        QCOMPARE(t.totalSteps(), int64_t(5));
        double epoch = 0.0;
        const TrainResult r = t.run([&](const TrainMetrics &m) {
            epoch = m.epoch;
            return true;
        });
        QCOMPARE(r.steps, int64_t(5));
        QCOMPARE(epoch, 2.5);
    }

    void cancellationSavesAtStop()
    {
        QTemporaryDir tmp;
        PreparedSplits data = sixteen();
        RunSpec spec = loraSpec(4, 3e-3, 50);
        spec.batch.seqLen = 32;
        spec.checkpoint.dir = tmp.path().toStdString();
        spec.checkpoint.every = 2;
        Trainer t(spec, m_model, data);
        std::vector<std::string> saved;
        const TrainResult r = t.run([&](const TrainMetrics &m) {
            if (!m.checkpoint.empty())
                saved.push_back(m.checkpoint);
            return m.step < 3;
        });
        QCOMPARE(r.reason, TrainStop::Cancelled);
        QCOMPARE(r.steps, int64_t(3));
        QCOMPARE(saved, std::vector<std::string>{spec.checkpoint.dir + "/checkpoint-2"});
        QCOMPARE(r.lastCheckpoint, spec.checkpoint.dir + "/checkpoint-3");
        // The adapter saved at stop is the model's current one.
        const PeftAdapter a = readPeftAdapter(r.lastCheckpoint, m_model->config);
        for (const auto &p : t.model().params())
            QVERIFY(a.matrices.at(p.name).values == p.value);
    }

    void resumeRefusesAnotherSpec()
    {
        QTemporaryDir tmp;
        PreparedSplits data = sixteen();
        RunSpec spec = loraSpec(4, 3e-3, 10);
        spec.batch.seqLen = 32;
        spec.budget.maxSteps = 1;
        spec.checkpoint.dir = tmp.path().toStdString();
        {
            Trainer t(spec, m_model, data);
            t.run();
        }
        auto refusal = [&](RunSpec other) -> std::string {
            try {
                Trainer t(other, m_model, data);
                t.resume(tmp.path().toStdString());
            } catch (const Error &e) {
                return e.what();
            }
            return {};
        };
        RunSpec lr = spec;
        lr.optimizer.lr = 1e-3;
        QVERIFY2(refusal(lr).find("optimizer.lr") != std::string::npos, refusal(lr).c_str());
        RunSpec rank = spec;
        rank.adapter.rank = 8;
        QVERIFY2(refusal(rank).find("adapter.rank") != std::string::npos, refusal(rank).c_str());
        RunSpec seq = spec;
        seq.batch.seqLen = 48;
        QVERIFY2(refusal(seq).find("batch.seq_len") != std::string::npos, refusal(seq).c_str());
        // Budget, threads and the checkpoint folder may change between sessions.
        RunSpec budget = spec;
        budget.budget.maxSteps = 5;
        budget.threads = 1;
        QCOMPARE(refusal(budget), std::string());
    }

    void fp16DynamicLossScaling()
    {
        // f16 emulation with a loss scale far too large: the scaled gradients overflow f16,
        // so the first steps are skipped (no update, no AdamW step) and the scale halves
        // each time, until it fits; then it doubles after growth_interval good steps.
        PreparedSplits data = sixteen();
        RunSpec spec = loraSpec(4, 3e-3, 40);
        spec.batch.seqLen = 32;
        spec.precision = ComputePrecision::F16;
        spec.lossScale.enabled = true;
        spec.lossScale.initial = std::ldexp(1.0, 40);
        spec.lossScale.growthInterval = 5;
        Trainer t(spec, m_model, data);
        std::vector<TrainMetrics> ms;
        t.run([&](const TrainMetrics &m) {
            ms.push_back(m);
            return true;
        });
        QCOMPARE(ms.size(), size_t(40));
        // The scale each step must have used, by GradScaler's rule (halve on overflow,
        // double after 5 good steps in a row), replayed from the skip flags.
        double scale = std::ldexp(1.0, 40);
        int good = 0;
        size_t skipped = 0, firstGood = ms.size();
        for (size_t i = 0; i < ms.size(); ++i) {
            QCOMPARE(ms[i].lossScale, scale);
            QVERIFY(std::isfinite(ms[i].loss));
            QCOMPARE(ms[i].skipped, !std::isfinite(ms[i].gradNorm));
            if (ms[i].skipped) {
                ++skipped;
                scale *= 0.5;
                good = 0;
            } else {
                firstGood = std::min(firstGood, i);
                if (++good == 5) {
                    scale *= 2.0;
                    good = 0;
                }
            }
        }
        qInfo("f16: %zu of 40 steps skipped; the first good step ran at scale 2^%g", skipped,
              std::log2(ms[firstGood].lossScale));
        QVERIFY(ms[0].skipped);                   // 2^40 overflows f16
        QVERIFY(ms.size() - skipped >= 10);       // and the scaler finds a usable scale
        QVERIFY(ms.back().loss < ms[firstGood].loss);
    }

    void bf16AndActivationCheckpointing()
    {
        // bf16 emulation trains; activation checkpointing recomputes the same numbers, so
        // the losses are bit-identical with and without it.
        PreparedSplits data = sixteen();
        RunSpec spec = loraSpec(4, 3e-3, 5);
        spec.batch.seqLen = 32;
        spec.adapter.dropout = 0.1;
        spec.precision = ComputePrecision::BF16;
        RunSpec ckpt = spec;
        ckpt.activationCheckpointing = true;
        Trainer a(spec, m_model, data), b(ckpt, m_model, data);
        const std::vector<double> la = losses(a), lb = losses(b);
        QCOMPARE(la.size(), size_t(5));
        QVERIFY(la == lb);
        QVERIFY(la.back() < la.front());
        QVERIFY(b.memory().activations < a.memory().activations);
    }

    void fullFineTuning()
    {
        // Every weight trains; the checkpoint carries the model itself as GGUF, which loads
        // back with the trained values.
        QTemporaryDir tmp;
        PreparedSplits data = sixteen();
        RunSpec spec = loraSpec(4, 1e-3, 3);
        spec.mode = TrainMode::Full;
        spec.batch.seqLen = 32;
        spec.checkpoint.dir = tmp.path().toStdString();
        Trainer t(spec, m_model, data);
        int64_t trainable = 0;
        for (const auto &p : t.model().params())
            trainable += p.size();
        QCOMPARE(trainable, m_model->config.parameterCount());
        const std::vector<double> l = losses(t);
        QVERIFY(l.back() < l.front());
        const LoadedModel saved = loadModel(tmp.path().toStdString() + "/checkpoint-3/model.gguf");
        for (const auto &p : t.model().params()) {
            const TensorView &v = saved.weights.get(p.name);
            QCOMPARE(v.dtype, DType::F32);
            QVERIFY2(std::memcmp(v.data, p.value.data(), p.value.size() * sizeof(float)) == 0, p.name.c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestTrainer)
#include "tst_trainer.moc"
