// Cost arithmetic against hand-computed examples (acceptance 4), the measured/estimated
// labels, budgets, what-if scaling and the example profiles.
#include "cost/Budget.h"
#include "cost/CostModel.h"
#include "cost/PriceProfile.h"
#include "cost/WhatIf.h"
#include "core/Error.h"

#include <QtTest>

#include <cmath>
#include <set>

using namespace lathe;
using namespace lathe::cost;

namespace {

constexpr double kTol = 1e-12; // the formulas are a handful of double operations

PriceProfile rentalAt(double rate)
{
    PriceProfile p;
    p.name = "rental";
    p.hourlyRate = rate;
    return p;
}

PriceProfile electricityOnly(double kwhPrice)
{
    PriceProfile p;
    p.name = "power";
    p.kind = ProfileKind::Owned;
    p.kwhPrice = kwhPrice;
    return p;
}

} // namespace

class TestCostArithmetic : public QObject
{
    Q_OBJECT

private slots:
    void twoHoursAtSeventyFiveCents()
    {
        // 2 h x $0.75/h = $1.50; a rental's energy costs nothing extra.
        const CostBreakdown c = computeCost(rentalAt(0.75), 2 * 3600, {1.0e6, "nvml", true});
        QVERIFY(std::fabs(c.total - 1.50) < kTol);
        QVERIFY(std::fabs(c.timeCost - 1.50) < kTol);
        QCOMPARE(c.energyCost, 0.0);
        QVERIFY(std::fabs(c.gpuHours - 2.0) < kTol);
        QCOMPARE(formatMoney(c.total), std::string("$1.50"));
    }

    void threeHundredWattsForNinetyMinutes()
    {
        // 300 W x 1.5 h = 0.45 kWh; x $0.30/kWh = $0.135.
        const Energy e = estimatedEnergy(300, 90 * 60);
        QVERIFY(std::fabs(e.joules - 1.62e6) < 1e-6);
        QVERIFY(std::fabs(kwhFromJoules(e.joules) - 0.45) < kTol);
        const CostBreakdown c = computeCost(electricityOnly(0.30), 90 * 60, e);
        QVERIFY(std::fabs(c.energyCost - 0.135) < kTol);
        QVERIFY(std::fabs(c.total - 0.135) < kTol);
        QCOMPARE(formatMoney(c.total), std::string("$0.135"));
        QCOMPARE(std::string(c.energyLabel()), std::string("estimated"));
        QVERIFY(!c.energyMeasured);
        QCOMPARE(c.energySource, std::string("tdp"));
    }

    void ownedCardAmortisationPlusEnergy()
    {
        // $1,599 over 8,760 h = $0.182534.../h; 2 h = $0.365068...; 400 W measured for
        // 2 h = 0.8 kWh x $0.30 = $0.24; total $0.605068...
        PriceProfile p;
        p.name = "4090";
        p.kind = ProfileKind::Owned;
        p.purchasePrice = 1599;
        p.lifetimeHours = 8760;
        p.kwhPrice = 0.30;
        const CostBreakdown c = computeCost(p, 7200, {400.0 * 7200, "nvml", true});
        QVERIFY(std::fabs(p.amortisationPerHour() - 1599.0 / 8760.0) < kTol);
        QVERIFY(std::fabs(c.timeCost - 0.365068493150685) < 1e-12);
        QVERIFY(std::fabs(c.energyCost - 0.24) < kTol);
        QVERIFY(std::fabs(c.total - 0.605068493150685) < 1e-12);
        QCOMPARE(std::string(c.energyLabel()), std::string("measured"));
        QVERIFY(c.dependsOnEnergy());
    }

    void perThousandTokensAndGpuHours()
    {
        // $1.50 for 3,000,000 tokens = $0.0005 per 1k tokens.
        QVERIFY(std::fabs(costPerThousandTokens(1.50, 3000000).value() - 0.0005) < kTol);
        // $0.135 for 45,000 generated tokens = $0.003 per 1k.
        QVERIFY(std::fabs(costPerThousandTokens(0.135, 45000).value() - 0.003) < kTol);
        QVERIFY(!costPerThousandTokens(1.0, 0));
        // 90 min on 2 GPUs = 3 GPU-hours, and twice the time cost.
        const CostBreakdown c = computeCost(rentalAt(1.0), 5400, {}, 2);
        QVERIFY(std::fabs(c.gpuHours - 3.0) < kTol);
        QVERIFY(std::fabs(c.total - 3.0) < kTol);
        QCOMPARE(formatMoney(0.0005), std::string("$0.00050"));
        QCOMPARE(formatMoney(12.3, "EUR"), std::string("12.30 EUR"));
    }

    void badInputIsAnError()
    {
        QVERIFY_THROWS_EXCEPTION(Error, computeCost(rentalAt(1), -1, {}));
        QVERIFY_THROWS_EXCEPTION(Error, computeCost(rentalAt(1), NAN, {}));
        QVERIFY_THROWS_EXCEPTION(Error, computeCost(rentalAt(1), 1, {-5, "tdp", false}));
        QVERIFY_THROWS_EXCEPTION(Error, computeCost(rentalAt(1), 1, {}, 0));
        PriceProfile p = rentalAt(-1);
        QVERIFY_THROWS_EXCEPTION(Error, validate(p));
        p = rentalAt(0);
        QVERIFY_THROWS_EXCEPTION(Error, validate(p)); // charges nothing
        p.purchasePrice = 100;
        QVERIFY_THROWS_EXCEPTION(Error, validate(p)); // no lifetime
        QVERIFY_THROWS_EXCEPTION(Error, parseProfileKind("leased"));
    }

    void exampleProfilesAreValidAndComplete()
    {
        const auto examples = exampleProfiles();
        std::set<std::string> cards;
        for (const PriceProfile &p : examples) {
            validate(p);
            QVERIFY(p.denseTflops > 0 && p.tdpWatts > 0 && p.memoryGb > 0 && !p.note.empty());
            cards.insert(p.name.substr(0, p.name.find(' ')));
        }
        for (const char *card : {"T4", "A10", "L4", "A100", "H100", "RTX"})
            QVERIFY2(cards.count(card), card);
        QCOMPARE(examples.size(), size_t(7));
    }

    void budgetLevels()
    {
        Budget b{BudgetScope::Run, 0.5, 1.0, "USD"};
        QCOMPARE(int(checkBudget(b, 0.2).level), int(BudgetLevel::Ok));
        const BudgetCheck warn = checkBudget(b, 0.6);
        QCOMPARE(int(warn.level), int(BudgetLevel::Warn));
        QVERIFY(warn.message.find("warning threshold of $0.500") != std::string::npos);
        const BudgetCheck ahead = checkBudget(b, 0.7, 0.4); // 0.7 + 0.4 > 1.0
        QCOMPARE(int(ahead.level), int(BudgetLevel::Exceeded));
        QVERIFY2(ahead.message.find("would be exceeded") != std::string::npos, ahead.message.c_str());
        QVERIFY(std::fabs(ahead.projected - 1.1) < kTol);
        const BudgetCheck reached = checkBudget(b, 1.0);
        QCOMPARE(int(reached.level), int(BudgetLevel::Exceeded));
        QVERIFY(reached.message.find("run limit of $1.00 is reached") != std::string::npos);
        QCOMPARE(int(checkBudget({BudgetScope::Day, {}, {}, "USD"}, 1e9).level), int(BudgetLevel::Ok));
        QCOMPARE(int(worst({checkBudget(b, 0.1), reached, warn}).level), int(BudgetLevel::Exceeded));
        QCOMPARE(int(parseBudgetScope("month")), int(BudgetScope::Month));
        QVERIFY_THROWS_EXCEPTION(Error, parseBudgetScope("week"));
    }

    void whatIfScalesByPublishedThroughput()
    {
        const auto examples = exampleProfiles();
        auto find = [&](const char *prefix) {
            for (const PriceProfile &p : examples)
                if (p.name.rfind(prefix, 0) == 0)
                    return p;
            throw std::runtime_error("no profile");
        };
        const PriceProfile a10 = find("A10 "), h100 = find("H100"), t4 = find("T4");
        RunMeasurement run;
        run.seconds = 3600;
        run.tokens = 1000000;
        run.peakMemoryGb = 20;
        const auto est = whatIf(run, a10, {h100, t4});
        QCOMPARE(est.size(), size_t(2));
        // H100: 3600 s x 125 / 989 = 455.0050556 s; x $2.99/h = $0.3779070...
        QVERIFY(std::fabs(est[0].seconds - 3600.0 * 125.0 / 989.0) < 1e-9);
        QVERIFY(std::fabs(est[0].cost.total - 455.00505561172901 / 3600.0 * 2.99) < 1e-12);
        QVERIFY(std::fabs(est[0].speedup - 989.0 / 125.0) < 1e-12);
        QVERIFY(!est[0].cost.energyMeasured); // estimates are labelled as such
        QCOMPARE(std::string(WhatIfEstimate::label), std::string("estimated"));
        QVERIFY(est[0].fits);
        QVERIFY(!est[1].fits); // 20 GB does not fit a 16 GB T4

        PriceProfile cpu;
        cpu.name = "my cpu";
        cpu.hourlyRate = 0.1;
        run.flops = 1e15;
        WhatIfOptions o;
        o.assumedUtilisation = 0.35;
        const auto fromCpu = whatIf(run, cpu, {a10}, o);
        // 1e15 / (0.35 x 125e12) = 22.857142... s
        QVERIFY(std::fabs(fromCpu[0].seconds - 1e15 / (0.35 * 125e12)) < 1e-9);
        run.flops = 0;
        QVERIFY_THROWS_EXCEPTION(Error, whatIf(run, cpu, {a10}));
        run.seconds = 0;
        QVERIFY_THROWS_EXCEPTION(Error, whatIf(run, a10, {h100}));
    }
};

QTEST_GUILESS_MAIN(TestCostArithmetic)
#include "tst_cost_arithmetic.moc"
