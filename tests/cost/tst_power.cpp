// Power sources: the TDP estimate, RAPL counters (a powercap tree written by the test,
// with a counter wrap and sub-zones that must not be counted twice), NVML's graceful
// absence, the fallback choice, and an energy meter whose source fails mid-job.
#include "cost/EnergyMeter.h"
#include "cost/PowerSource.h"
#include "core/Error.h"

#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>

using namespace lathe;
using namespace lathe::cost;

namespace {

void writeFile(const std::string &path, const std::string &text)
{
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path) << text;
}

// A measured source that fails after a number of readings.
class FlakySource : public PowerSource
{
public:
    explicit FlakySource(int goodReads) : m_left(goodReads) {}
    const char *kind() const override { return "nvml"; }
    bool measured() const override { return true; }
    std::string description() const override { return "flaky"; }
    double energyAt(double now) override
    {
        if (m_left-- <= 0)
            fail("sensor gone");
        return 100.0 * now;
    }
    double lastWatts() const override { return 100; }

private:
    int m_left;
};

} // namespace

class TestPower : public QObject
{
    Q_OBJECT

private slots:
    void tdpEstimateIsWattsTimesTime()
    {
        auto s = makeTdpEstimate(300);
        QCOMPARE(std::string(s->kind()), std::string("tdp"));
        QVERIFY(!s->measured());
        QCOMPARE(s->energyAt(100.0), 0.0); // the first call starts the clock
        QCOMPARE(s->energyAt(100.0 + 5400), 300.0 * 5400);
        QVERIFY(s->description().find("300 W") != std::string::npos);
    }

    void raplSumsPackagesAndHandlesWrap()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        const std::string p0 = root + "/intel-rapl:0", p1 = root + "/intel-rapl:1", sub = root + "/intel-rapl:0:0";
        const uint64_t range = 262143328850; // a real package's max_energy_range_uj
        writeFile(p0 + "/max_energy_range_uj", std::to_string(range));
        writeFile(p0 + "/energy_uj", std::to_string(range - 1500000)); // 1.5 J before the wrap
        writeFile(p1 + "/max_energy_range_uj", std::to_string(range));
        writeFile(p1 + "/energy_uj", "1000000");
        writeFile(sub + "/max_energy_range_uj", std::to_string(range));
        writeFile(sub + "/energy_uj", "5");
        writeFile(root + "/dram/energy_uj", "7"); // not a RAPL zone name: ignored
        std::string why;
        auto s = openRapl(root, &why);
        QVERIFY2(s, why.c_str());
        QVERIFY(s->measured());
        QCOMPARE(std::string(s->kind()), std::string("rapl"));
        QCOMPARE(s->energyAt(0), 0.0);

        writeFile(p0 + "/energy_uj", std::to_string(range - 500000)); // +1 J
        writeFile(p1 + "/energy_uj", "3000000");                      // +2 J
        writeFile(sub + "/energy_uj", "999999999");                   // a part of package 0: ignored
        QVERIFY(std::fabs(s->energyAt(1.0) - 3.0) < 1e-9);
        QVERIFY(std::fabs(s->lastWatts() - 3.0) < 1e-9);

        writeFile(p0 + "/energy_uj", "250000"); // wrapped: 0.5 J to the top + 0.25 J
        QVERIFY(std::fabs(s->energyAt(2.0) - 3.75) < 1e-9);
    }

    void raplAbsentOrUnreadable()
    {
        QTemporaryDir dir;
        std::string why;
        QVERIFY(!openRapl(dir.path().toStdString(), &why));
        QVERIFY(why.find("no package zones") != std::string::npos);
        const std::string zone = dir.path().toStdString() + "/intel-rapl:0";
        writeFile(zone + "/max_energy_range_uj", "1000");
        QVERIFY(!openRapl(dir.path().toStdString(), &why)); // energy_uj missing
        QVERIFY(why.find("energy_uj") != std::string::npos);
        QVERIFY(!openRapl("/nonexistent/powercap", &why));
    }

    void nvmlMissingLibraryFallsBackToTheEstimate()
    {
        std::string why;
        QVERIFY(!openNvml("libnvidia-ml-absent.so.1", 0, &why));
        QVERIFY2(why.find("cannot load") != std::string::npos, why.c_str());
        PowerSourceOptions o;
        o.target = PowerTarget::Gpu;
        o.nvmlLibrary = "libnvidia-ml-absent.so.1";
        o.tdpWatts = 165;
        std::string notes;
        auto s = openPowerSource(o, &notes);
        QCOMPARE(std::string(s->kind()), std::string("tdp"));
        QVERIFY(!s->measured());
        QVERIFY(notes.find("NVML") != std::string::npos);
        s->energyAt(0);
        QCOMPARE(s->energyAt(10), 1650.0);

        o.target = PowerTarget::Cpu;
        o.raplRoot = "/nonexistent/powercap";
        o.tdpWatts = 65;
        s = openPowerSource(o, &notes);
        QCOMPARE(std::string(s->kind()), std::string("tdp"));
        QVERIFY(notes.find("RAPL") != std::string::npos);
    }

    void nvmlOnAMachineWithAGpu()
    {
        std::string why;
        auto s = openNvml("libnvidia-ml.so.1", 0, &why);
        if (!s)
            QSKIP(qPrintable(QString::fromStdString("no NVML here: " + why)));
        QVERIFY(s->measured());
        QCOMPARE(s->energyAt(0), 0.0);
        const double joules = s->energyAt(0.5);
        QVERIFY(s->lastWatts() > 1 && s->lastWatts() < 2000); // a board draws something
        QVERIFY(joules > 0);
    }

    void meterFallsBackAndSaysSo()
    {
        EnergyMeter good(makeTdpEstimate(50), 50, std::chrono::milliseconds(5));
        QVERIFY(!good.energy().measured);
        EnergyMeter meter(std::make_unique<FlakySource>(1), 80, std::chrono::milliseconds(5));
        Energy e = meter.energy(); // the second reading fails
        QVERIFY(!e.measured);
        QCOMPARE(e.source, std::string("tdp"));
        QVERIFY(meter.description().find("sensor gone") != std::string::npos);
        const Energy last = meter.stop();
        QVERIFY(last.joules >= 0);
        QCOMPARE(meter.energy().joules, last.joules); // frozen after stop
    }
};

QTEST_GUILESS_MAIN(TestPower)
#include "tst_power.moc"
