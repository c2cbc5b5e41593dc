// Learning-rate schedules against the multipliers of transformers'
// get_{constant,linear,cosine}_schedule_with_warmup, worked out by hand.
#include "train/schedule/LrSchedule.h"

#include <QtTest>
#include <cmath>

using namespace lathe;

class TestSchedule : public QObject
{
    Q_OBJECT
private slots:
    void warmupThenConstant()
    {
        LrSchedule s{ScheduleKind::Constant, 1e-3, 4, 100};
        QCOMPARE(s.factor(0), 0.0); // transformers: the first update runs at lr 0 with warmup
        QCOMPARE(s.factor(1), 0.25);
        QCOMPARE(s.factor(3), 0.75);
        QCOMPARE(s.factor(4), 1.0);
        QCOMPARE(s.factor(99), 1.0);
        QVERIFY(std::abs(s.lr(2) - 5e-4) < 1e-18);
        LrSchedule none{ScheduleKind::Constant, 1e-3, 0, 100};
        QCOMPARE(none.factor(0), 1.0);
    }

    void linearDecay()
    {
        // N = 10, W = 2: (10 - s) / 8 after warmup.
        LrSchedule s{ScheduleKind::Linear, 1.0, 2, 10};
        QCOMPARE(s.factor(1), 0.5);
        QCOMPARE(s.factor(2), 1.0);
        QCOMPARE(s.factor(6), 0.5);
        QCOMPARE(s.factor(9), 0.125);
        QCOMPARE(s.factor(10), 0.0);
        QCOMPARE(s.factor(12), 0.0); // never negative
    }

    void cosineDecay()
    {
        // N = 10, W = 2: 0.5 (1 + cos(pi (s - 2) / 8)).
        LrSchedule s{ScheduleKind::Cosine, 1.0, 2, 10};
        QCOMPARE(s.factor(0), 0.0);
        QCOMPARE(s.factor(2), 1.0);
        QVERIFY(std::abs(s.factor(4) - 0.5 * (1.0 + std::sqrt(0.5))) < 1e-12); // cos(pi/4)
        QVERIFY(std::abs(s.factor(6) - 0.5) < 1e-12);
        QVERIFY(std::abs(s.factor(8) - 0.5 * (1.0 - std::sqrt(0.5))) < 1e-12);
        QVERIFY(std::abs(s.factor(10)) < 1e-12);
    }

    void names()
    {
        QCOMPARE(scheduleKindFromName("cosine").value(), ScheduleKind::Cosine);
        QCOMPARE(scheduleKindFromName("linear").value(), ScheduleKind::Linear);
        QCOMPARE(scheduleKindFromName("constant").value(), ScheduleKind::Constant);
        QVERIFY(!scheduleKindFromName("Cosine").has_value());
        QCOMPARE(std::string(scheduleKindName(ScheduleKind::Linear)), std::string("linear"));
    }
};

QTEST_GUILESS_MAIN(TestSchedule)
#include "tst_schedule.moc"
