// The int8-activation matmul (the CPU device's default for quantized weights) against
// llama.cpp's own logits (fixtures/golden, read its README). llama.cpp quantizes every
// activation row to 8-bit blocks before a quantized matmul; ours does the same with the
// same conventions (CpuMatmulKernels.h), so where nothing else differs it must give the
// same numbers, not merely close ones. At position 0 of random_llama_d256 (a BOS token:
// attention over one position, no f16-weight tensors) with an F16 KV cache like the one
// the golden files were made with, the only other roundings are f32 summation orders:
// our logits must equal llama.cpp's within 1e-4 (we measured 2e-6 to 3e-6), where the
// f32-activation path is 0.2 to 0.4 off. A wrong activation scale convention, rounding
// mode or code is a 1e-2 error here.
// Not covered: Q8_0 weights, which stay 0.15 off at position 0 (llama.cpp's Q8_0 path
// evidently rounds somewhere we do not reproduce), and stories260K, whose F16 ffn_down
// makes llama.cpp round those activations to f16 as well.
#include "backend/cpu/CpuDevice.h"
#include "infer/Session.h"
#include "model/LoadedModel.h"

#include "Fixtures.h"

#include <QtTest>
#include <cmath>

using namespace lathe;

namespace {

double positionZeroDistance(const std::string &type, cpu::MatmulPrecision precision)
{
    const std::string dir = "golden/random_llama_d256/";
    auto model =
        std::make_shared<LoadedModel>(loadGgufModel(test::fixture(dir + "models/random_llama_d256-" + type + ".gguf")));
    const auto g = test::readJson(test::fixture(dir + "logits/" + type + "_c.json"));
    const std::vector<int32_t> tokens = g["tokens"].get<std::vector<int32_t>>();
    auto device = std::make_shared<CpuDevice>(1);
    device->setMatmulPrecision(precision);
    Session s(model, device, {int64_t(tokens.size()), DType::F16});
    const std::vector<float> logits = s.prefillAll(tokens);
    const auto &want = g["positions"][0]["logits"];
    const int64_t V = model->config.vocabSize;
    if (int64_t(want.size()) != V)
        return INFINITY;
    double worst = 0;
    for (int64_t v = 0; v < V; ++v)
        worst = std::max(worst, std::abs(double(logits[size_t(v)]) - want[size_t(v)].get<double>()));
    return worst;
}

} // namespace

class TestGoldenInt8 : public QObject
{
    Q_OBJECT
private slots:
    void reproducesLlamaCpp_data()
    {
        QTest::addColumn<QString>("type");
        for (const char *t : {"Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K"}) // Q4_0, Q4_K, Q5_K, Q6_K blocks
            QTest::newRow(t) << QString(t);
    }
    void reproducesLlamaCpp()
    {
        QFETCH(QString, type);
        const double int8 = positionZeroDistance(type.toStdString(), cpu::MatmulPrecision::Int8);
        const double exact = positionZeroDistance(type.toStdString(), cpu::MatmulPrecision::Exact);
        qInfo("%s position 0: max|dlogit| int8 %.2g, exact %.2g", qPrintable(type), int8, exact);
        QVERIFY(int8 <= 1e-4);
        QVERIFY(exact > 1e-2); // the check tells the two paths apart
    }
};

QTEST_GUILESS_MAIN(TestGoldenInt8)
#include "tst_golden_int8.moc"
