// Reports: the before/after table (values, savings, CSV quoting, Markdown), the monthly
// trend forecast against hand-fitted lines, and the cost card's labels.
#include "cost/Reports.h"
#include "core/Error.h"

#include <QtTest>

#include <cmath>

using namespace lathe;
using namespace lathe::cost;

class TestReports : public QObject
{
    Q_OBJECT

private slots:
    void beforeAfterTable()
    {
        RunFigures before{"full fine-tune", 3600, 1.50, "USD", 3000000, 12.0 * 1073741824.0, {{"eval_loss", 1.20}}};
        RunFigures after{"QLoRA, r=8", 1200, 0.50, "USD", 3000000, 4.0 * 1073741824.0,
                         {{"eval_loss", 1.26}, {"bleu", 31.0}}};
        const auto rows = compareRuns(before, after);
        QCOMPARE(rows.size(), size_t(6)); // time, cost, per 1k, vram, bleu, eval_loss
        QCOMPARE(rows[0].metric, std::string("time_s"));
        QVERIFY(std::fabs(rows[0].savingPercent.value() - 200.0 / 3.0) < 1e-9); // (3600-1200)/3600
        QVERIFY(std::fabs(rows[0].changePercent.value() + 200.0 / 3.0) < 1e-9);
        QVERIFY(std::fabs(rows[1].savingPercent.value() - 200.0 / 3.0) < 1e-9);
        QVERIFY(std::fabs(rows[2].before.value() - 0.0005) < 1e-15); // $1.50 / 3M tokens x 1k
        QVERIFY(std::fabs(rows[3].after.value() - 4.0) < 1e-12);
        QCOMPARE(rows[4].metric, std::string("bleu"));
        QVERIFY(!rows[4].before && !rows[4].changePercent);
        QCOMPARE(rows[5].metric, std::string("eval_loss"));
        QVERIFY(std::fabs(rows[5].changePercent.value() - 5.0) < 1e-9); // 1.20 -> 1.26 is +5%
        QVERIFY(!rows[5].savingPercent);

        const std::string csv = comparisonCsv(rows, before.name, after.name);
        QVERIFY2(csv.rfind("metric,full fine-tune,\"QLoRA, r=8\",change_percent,saving_percent\n", 0) == 0, csv.c_str());
        QVERIFY2(csv.find("\ntime_s,3600,1200,-66.67,66.67\n") != std::string::npos, csv.c_str());
        QVERIFY2(csv.find("\nbleu,,31,,\n") != std::string::npos, csv.c_str());

        const std::string md = comparisonMarkdown(rows, "a|b", after.name);
        QVERIFY2(md.rfind("| metric | a\\|b | QLoRA, r=8 | change | saving |\n|---|", 0) == 0, md.c_str());
        QVERIFY2(md.find("| time_s | 3600 | 1200 | -66.7% | 66.7% |") != std::string::npos, md.c_str());
        QVERIFY2(md.find("| eval_loss | 1.2 | 1.26 | +5.0% | – |") != std::string::npos, md.c_str());
    }

    void monthlyForecastFitsALine()
    {
        // 10, 20, 30: slope 10, next month 40.
        SpendForecast f = forecastSpend({{"2026-08", 10}, {"2026-09", 20}, {"2026-10", 30}});
        QVERIFY(std::fabs(f.slopePerMonth - 10) < 1e-12);
        QVERIFY(std::fabs(f.nextMonth - 40) < 1e-12);
        QCOMPARE(f.monthsUsed, 3);
        QVERIFY(!f.lastMonthProjected);
        // Half-way through the third month with 15 spent: projected 30, same line.
        f = forecastSpend({{"2026-08", 10}, {"2026-09", 20}, {"2026-10", 15}}, 0.5);
        QVERIFY(std::fabs(f.lastMonthProjected.value() - 30) < 1e-12);
        QVERIFY(std::fabs(f.nextMonth - 40) < 1e-12);
        // 2, 4, 3, 5: x mean 1.5, y mean 3.5, sxy = 2.25 - 0.25 - 0.25 + 2.25 = 4, sxx = 5
        // -> slope 0.8; at x = 4: 3.5 + 0.8 x 2.5 = 5.5
        f = forecastSpend({{"a", 2}, {"b", 4}, {"c", 3}, {"d", 5}});
        QVERIFY(std::fabs(f.slopePerMonth - 0.8) < 1e-12);
        QVERIFY(std::fabs(f.nextMonth - 5.5) < 1e-12);
        // Only the last six months count: a huge old month changes nothing.
        std::vector<MonthTotal> long_{{"old", 1000}};
        for (int i = 0; i < 6; ++i)
            long_.push_back({std::string("m").append(std::to_string(i)), 5});
        f = forecastSpend(long_);
        QCOMPARE(f.monthsUsed, 6);
        QVERIFY(std::fabs(f.nextMonth - 5) < 1e-12);
        // A falling trend never forecasts a negative spend.
        QCOMPARE(forecastSpend({{"a", 30}, {"b", 10}}).nextMonth, 0.0);
        QCOMPARE(forecastSpend({}).nextMonth, 0.0);
        QCOMPARE(forecastSpend({{"a", 5}}).nextMonth, 5.0);
        QVERIFY_THROWS_EXCEPTION(Error, forecastSpend({{"a", 5}}, 0.0));
        const std::string text = formatMonthlyReport({{"2026-09", 20}, {"2026-10", 30}}, f);
        QVERIFY(text.find("2026-10") != std::string::npos && text.find("estimate") != std::string::npos);
    }

    void costCardLabelsEstimates()
    {
        CostCard card;
        card.runName = "run 1";
        card.profileName = "RTX 4060 Ti 16GB (owned)";
        card.cost.seconds = 5400;
        card.cost.gpuHours = 1.5;
        card.cost.energyJoules = 1.62e6;
        card.cost.energyCost = 0.135;
        card.cost.total = 0.135;
        card.cost.energySource = "tdp";
        card.tokensTrained = 45000;
        const std::string text = formatCostCard(card);
        QVERIFY2(text.find("0.45 kWh (estimated") != std::string::npos, text.c_str());
        QVERIFY2(text.find("total:          $0.135 (estimated)") != std::string::npos, text.c_str());
        QVERIFY2(text.find("per 1k trained:   $0.0030") != std::string::npos, text.c_str());
        QVERIFY2(text.find("1h 30m 00s") != std::string::npos, text.c_str());
        card.cost.energyMeasured = true;
        QVERIFY(formatCostCard(card).find("(measured") != std::string::npos);
        QVERIFY(formatCostCard(card).find("(estimated)") == std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestReports)
#include "tst_reports.moc"
