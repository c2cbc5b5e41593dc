// AdamW, gradient clipping and loss scaling against values worked out by hand from the
// published formulas (torch.optim.AdamW, clip_grad_norm_, GradScaler).
#include "train/optim/AdamW.h"
#include "train/optim/GradClip.h"
#include "train/optim/LossScaler.h"
#include "core/Error.h"

#include <QtTest>
#include <cmath>
#include <limits>

using namespace lathe;

namespace {

TrainParam<float> param(const std::string &name, std::vector<int64_t> shape, std::vector<float> value)
{
    TrainParam<float> p;
    p.name = name;
    p.shape = std::move(shape);
    p.value = std::move(value);
    p.grad.assign(p.value.size(), 0.0f);
    return p;
}

} // namespace

class TestOptim : public QObject
{
    Q_OBJECT
private slots:
    void adamwTwoStepsByHand()
    {
        // p = [1, -2] as a [1, 2] matrix (decayed), lr 0.1, betas (0.9, 0.999), eps 1e-8, wd 0.01.
        // Step 1: p *= 0.999; m = 0.1 g, v = 0.001 g^2; m_hat = g, sqrt(v_hat) = |g|
        //   -> p -= 0.1 g / (|g| + 1e-8): p = [0.899000002, -1.898000001].
        // Step 2 with g = [0.1, 0.2]: m = [0.055, -0.07], v = [0.00025975, 0.001039],
        //   bias corrections 0.19 and 0.001999 -> p = [0.8177969064, -1.8449993940].
        std::vector<TrainParam<float>> ps{param("w", {1, 2}, {1.0f, -2.0f})};
        AdamWConfig c;
        c.beta1 = 0.9;
        c.beta2 = 0.999;
        c.eps = 1e-8;
        c.weightDecay = 0.01;
        AdamW opt(c);
        opt.attach(ps);
        ps[0].grad = {0.5f, -1.0f};
        opt.step(ps, 0.1);
        QVERIFY(std::abs(ps[0].value[0] - 0.899000002) < 1e-6);
        QVERIFY(std::abs(ps[0].value[1] - -1.898000001) < 1e-6);
        QVERIFY(std::abs(opt.firstMoments()[0][1] - -0.1) < 1e-7);
        QVERIFY(std::abs(opt.secondMoments()[0][0] - 0.00025) < 1e-9);
        ps[0].grad = {0.1f, 0.2f};
        opt.step(ps, 0.1);
        QCOMPARE(opt.steps(), int64_t(2));
        QVERIFY(std::abs(ps[0].value[0] - 0.8177969064) < 1e-6);
        QVERIFY(std::abs(ps[0].value[1] - -1.8449993940) < 1e-6);
        QVERIFY(std::abs(opt.firstMoments()[0][0] - 0.055) < 1e-7);
        QVERIFY(std::abs(opt.secondMoments()[0][1] - 0.001039) < 1e-8);
    }

    void adamwNoDecayOnVectors()
    {
        // A 1-D parameter (a norm or bias) is not decayed: one step with g = 1 moves
        // p by exactly lr (m_hat / sqrt(v_hat) = 1), whatever the weight decay.
        std::vector<TrainParam<float>> ps{param("norm", {2}, {1.0f, 1.0f}), param("w", {1, 1}, {1.0f})};
        AdamWConfig c;
        c.weightDecay = 0.5;
        AdamW opt(c);
        opt.attach(ps);
        ps[0].grad = {1.0f, -1.0f};
        ps[1].grad = {1.0f};
        opt.step(ps, 0.01);
        QVERIFY(std::abs(ps[0].value[0] - 0.99f) < 1e-6);
        QVERIFY(std::abs(ps[0].value[1] - 1.01f) < 1e-6);
        // matrix: 1 * (1 - 0.01 * 0.5) - 0.01 = 0.985
        QVERIFY(std::abs(ps[1].value[0] - 0.985f) < 1e-6);
        QCOMPARE(opt.stateBytes(), int64_t(2 * 3 * 4));
    }

    void adamwRestoreContinuesIdentically()
    {
        std::vector<TrainParam<float>> a{param("w", {2, 2}, {0.1f, 0.2f, -0.3f, 0.4f})};
        std::vector<TrainParam<float>> b = a;
        AdamW oa({}), ob({});
        oa.attach(a);
        const std::vector<std::vector<float>> grads{{1, -2, 3, -4}, {0.5f, 0.5f, -0.5f, 1}, {2, 0, 1, -1}};
        a[0].grad = grads[0];
        oa.step(a, 1e-2);
        // b picks up a's state after step 1 and both take steps 2 and 3.
        b[0].value = a[0].value;
        ob.restore(oa.steps(), oa.firstMoments(), oa.secondMoments(), b);
        for (int s = 1; s < 3; ++s) {
            a[0].grad = grads[size_t(s)];
            b[0].grad = grads[size_t(s)];
            oa.step(a, 1e-2);
            ob.step(b, 1e-2);
        }
        QCOMPARE(a[0].value, b[0].value);
        // A state of the wrong size is refused, naming the parameter.
        try {
            std::vector<TrainParam<float>> c{param("other", {3}, {0, 0, 0})};
            ob.restore(1, oa.firstMoments(), oa.secondMoments(), c);
            QFAIL("expected an error");
        } catch (const Error &e) {
            QVERIFY(std::string(e.what()).find("other") != std::string::npos);
        }
    }

    void globalNormAndClip()
    {
        // Grads 3, 4 and 12 across two params: norm 13. Clipping to 1 multiplies by
        // 1 / (13 + 1e-6).
        std::vector<TrainParam<float>> ps{param("a", {2}, {0, 0}), param("b", {1, 1}, {0})};
        ps[0].grad = {3.0f, 4.0f};
        ps[1].grad = {12.0f};
        const double norm = globalGradNorm(ps);
        QCOMPARE(norm, 13.0);
        const double coef = clipGradNorm(ps, norm, 1.0);
        QVERIFY(std::abs(coef - 1.0 / (13.0 + 1e-6)) < 1e-15);
        QVERIFY(std::abs(ps[0].grad[0] - 3.0 / 13.0) < 1e-6);
        QVERIFY(std::abs(globalGradNorm(ps) - 1.0) < 1e-6);
        // Below the threshold (or disabled) nothing changes.
        QCOMPARE(clipGradNorm(ps, globalGradNorm(ps), 2.0), 1.0);
        QCOMPARE(clipGradNorm(ps, 100.0, 0.0), 1.0);
        QVERIFY(std::abs(ps[1].grad[0] - 12.0 / 13.0) < 1e-6);
        // Unscaling multiplies by the inverse of the loss scale.
        scaleGrads(ps, 0.5);
        QVERIFY(std::abs(ps[0].grad[1] - 2.0 / 13.0) < 1e-6);
        QVERIFY(gradsFinite(ps));
        ps[1].grad[0] = std::numeric_limits<float>::infinity();
        QVERIFY(!gradsFinite(ps));
        QVERIFY(!std::isfinite(globalGradNorm(ps)));
    }

    void dynamicLossScale()
    {
        LossScaleConfig c;
        c.enabled = true;
        c.initial = 1024;
        c.growthInterval = 3;
        LossScaler s(c);
        QCOMPARE(s.scale(), 1024.0);
        QVERIFY(!s.update(true)); // overflow: skip and halve
        QCOMPARE(s.scale(), 512.0);
        QVERIFY(s.update(false));
        QVERIFY(s.update(false));
        QCOMPARE(s.scale(), 512.0);
        QVERIFY(s.update(false)); // third good step in a row: double
        QCOMPARE(s.scale(), 1024.0);
        QVERIFY(s.update(false));
        QVERIFY(!s.update(true)); // an overflow resets the run of good steps
        QCOMPARE(s.scale(), 512.0);
        QVERIFY(s.update(false));
        QVERIFY(s.update(false));
        QCOMPARE(s.scale(), 512.0);
        QCOMPARE(s.skippedSteps(), int64_t(2));

        LossScaleConfig fixed = c;
        fixed.dynamic = false;
        LossScaler f(fixed);
        QVERIFY(!f.update(true));
        QCOMPARE(f.scale(), 1024.0);
        LossScaler off; // f32/bf16: scale 1, never changes
        QCOMPARE(off.scale(), 1.0);
        QVERIFY(off.update(false));
        QCOMPARE(off.scale(), 1.0);
    }
};

QTEST_GUILESS_MAIN(TestOptim)
#include "tst_optim.moc"
