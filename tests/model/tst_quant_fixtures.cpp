// Dequantization against llama.cpp: the golden GGUF files were quantized by llama.cpp
// from the same F32 weights, so every dequantized tensor must sit within its format's
// error bound of the F32 original (bounds in tests/core/tst_quant_bounds.h), and our
// reference quantizers must reproduce llama.cpp's Q8_0 / Q4_0 bytes.
#include "../core/tst_quant_bounds.h"
#include "Fixtures.h"

#include "core/Quant.h"
#include "model/gguf/GgufFile.h"

#include <QtTest>
#include <cstring>
#include <map>
#include <vector>

using namespace lathe;

namespace {

struct TypeStats
{
    int tensors = 0;
    test::BoundReport report;
};

std::shared_ptr<const GgufFile> openModel(const std::string &model, const std::string &type)
{
    return GgufFile::open(test::fixture("golden/" + model + "/models/" + model + "-" + type + ".gguf"));
}

} // namespace

class TestQuantFixtures : public QObject
{
    Q_OBJECT
private slots:
    void dequantizeWithinBounds_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("type");
        for (const char *t : {"F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M_fallback", "Q5_K_M_fallback"})
            QTest::newRow((std::string("stories260K-") + t).c_str()) << "stories260K" << t;
        for (const char *t : {"F16", "Q8_0", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K"})
            QTest::newRow((std::string("random_llama_d256-") + t).c_str()) << "random_llama_d256" << t;
    }
    void dequantizeWithinBounds()
    {
        QFETCH(QString, model);
        QFETCH(QString, type);
        const auto f32 = openModel(model.toStdString(), "F32");
        const auto q = openModel(model.toStdString(), type.toStdString());
        std::map<DType, TypeStats> stats;
        for (const TensorView &t : q->tensors()) {
            const TensorView *ref = f32->tensor(t.name);
            QVERIFY2(ref, t.name.c_str());
            QCOMPARE(ref->shape, t.shape);
            QCOMPARE(ref->dtype, DType::F32);
            const int64_t K = t.cols();
            std::vector<float> y(static_cast<size_t>(K));
            TypeStats &s = stats[t.dtype];
            ++s.tensors;
            test::BoundReport r;
            for (int64_t row = 0; row < t.rows(); ++row) {
                dequantizeRow(t.dtype, t.row(row), y.data(), K);
                const auto *x = reinterpret_cast<const float *>(ref->row(row));
                test::checkRowBounds(t.dtype, t.row(row), x, y.data(), K, r);
            }
            QVERIFY2(r.violations == 0, (t.name + " " + dtypeName(t.dtype) + ": " + std::to_string(r.violations) +
                                         " elements out of bound, first " + r.first)
                                            .c_str());
            // Only the few elements a coarsened sub-block scale pushed off its grid may clamp.
            QVERIFY2(r.clamped * 100 <= r.elements, (t.name + ": too many clamped elements").c_str());
            s.report.elements += r.elements;
            s.report.clamped += r.clamped;
            s.report.sumSqErr += r.sumSqErr;
            s.report.sumSqX += r.sumSqX;
        }
        for (const auto &[dt, s] : stats) {
            qInfo("%s %s: %d tensors, relative RMS error %.4g, clamped %lld of %lld", qPrintable(type),
                  dtypeName(dt), s.tensors, s.report.relRms(), (long long)s.report.clamped,
                  (long long)s.report.elements);
            // Uniform rounding with step d costs d/sqrt(12) RMS. Against the data's RMS
            // that is about 1/16 for 4-bit symmetric blocks on uniform data, 1/32 for 5-bit,
            // 1/256 for Q8_0 (d = amax/127); K-quants similar or better (per-sub-block
            // ranges). The limits allow about 2x for heavier-tailed data.
            double limit = 0;
            switch (dt) {
            case DType::F32: limit = 0; break;
            case DType::F16: limit = 1e-3; break;
            case DType::BF16: limit = 8e-3; break;
            case DType::Q8_0: limit = 0.01; break;
            case DType::Q4_0: case DType::Q4_K: limit = 0.15; break;
            case DType::Q5_0: case DType::Q5_1: case DType::Q5_K: limit = 0.075; break;
            case DType::Q6_K: limit = 0.04; break;
            default: limit = 0.15; break;
            }
            QVERIFY2(s.report.relRms() <= limit, dtypeName(dt));
        }
    }

    // llama.cpp's reference quantizers round the same way ours do, so re-quantizing the
    // F32 tensors must give the same bytes block for block (only a tie in rounding or a
    // different f16 rounding of d could differ).
    void quantizeMatchesLlamaCpp_data()
    {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("type");
        QTest::addColumn<double>("minIdentical");
        QTest::newRow("stories260K-Q8_0") << "stories260K" << "Q8_0" << 0.99;
        QTest::newRow("random_llama_d256-Q8_0") << "random_llama_d256" << "Q8_0" << 0.99;
        QTest::newRow("stories260K-Q4_0") << "stories260K" << "Q4_0" << 0.99;
        QTest::newRow("random_llama_d256-Q4_0") << "random_llama_d256" << "Q4_0" << 0.99;
        QTest::newRow("stories260K-Q5_0") << "stories260K" << "Q4_K_M_fallback" << 0.99;
        QTest::newRow("stories260K-Q5_1") << "stories260K" << "Q5_K_M_fallback" << 0.99;
    }
    void quantizeMatchesLlamaCpp()
    {
        QFETCH(QString, model);
        QFETCH(QString, type);
        QFETCH(double, minIdentical);
        const auto f32 = openModel(model.toStdString(), "F32");
        const auto q = openModel(model.toStdString(), type.toStdString());
        std::map<DType, std::pair<int64_t, int64_t>> counts; // identical, total blocks
        for (const TensorView &t : q->tensors()) {
            if (!dtypeInfo(t.dtype).quantized || dtypeInfo(t.dtype).blockSize != 32)
                continue;
            const TensorView *ref = f32->tensor(t.name);
            QVERIFY(ref);
            const int64_t K = t.cols();
            const size_t rb = rowBytes(t.dtype, K), bb = size_t(dtypeInfo(t.dtype).blockBytes);
            std::vector<uint8_t> ours(rb);
            auto &[same, total] = counts[t.dtype];
            for (int64_t row = 0; row < t.rows(); ++row) {
                quantizeRow(t.dtype, reinterpret_cast<const float *>(ref->row(row)), ours.data(), K);
                for (size_t b = 0; b < rb / bb; ++b, ++total)
                    same += std::memcmp(ours.data() + b * bb, t.row(row) + b * bb, bb) == 0;
            }
        }
        QVERIFY(!counts.empty());
        for (const auto &[dt, c] : counts) {
            const double frac = double(c.first) / double(c.second);
            qInfo("%s %s: %lld of %lld blocks identical (%.4f)", qPrintable(type), dtypeName(dt), (long long)c.first,
                  (long long)c.second, frac);
            QVERIFY2(frac >= minIdentical, dtypeName(dt));
        }
    }
};

QTEST_GUILESS_MAIN(TestQuantFixtures)
#include "tst_quant_fixtures.moc"
