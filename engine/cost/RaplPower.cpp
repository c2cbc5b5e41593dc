// RAPL energy counters through the powercap sysfs interface (see PowerSource.h).
// Each package zone "intel-rapl:N" has energy_uj, a counter in microjoules that wraps
// to 0 after max_energy_range_uj; sub-zones ("intel-rapl:N:M": cores, uncore, DRAM) are
// parts of their package and are skipped so nothing is counted twice.
#include "cost/PowerSource.h"

#include "core/Error.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

namespace lathe::cost {

namespace {

namespace fs = std::filesystem;

bool readCounter(const fs::path &file, uint64_t &value)
{
    std::ifstream in(file);
    return static_cast<bool>(in >> value);
}

struct Zone
{
    fs::path dir;
    uint64_t maxRange = 0; // microjoules at which the counter wraps
    uint64_t last = 0;
};

class RaplSource : public PowerSource
{
public:
    explicit RaplSource(std::vector<Zone> zones) : m_zones(std::move(zones)) {}
    const char *kind() const override { return "rapl"; }
    bool measured() const override { return true; }
    std::string description() const override
    {
        return "RAPL: " + std::to_string(m_zones.size()) + " CPU package zone(s) under " +
               m_zones.front().dir.parent_path().string();
    }
    double energyAt(double now) override
    {
        uint64_t deltaUj = 0;
        for (Zone &z : m_zones) {
            uint64_t raw = 0;
            if (!readCounter(z.dir / "energy_uj", raw))
                fail("RAPL: cannot read " + (z.dir / "energy_uj").string());
            if (m_started)
                // One wrap at most between calls: callers sample far more often than
                // the counter's range lasts (minutes at any real package power).
                deltaUj += raw >= z.last ? raw - z.last : (z.maxRange - z.last) + raw;
            z.last = raw;
        }
        const double joules = double(deltaUj) * 1e-6;
        if (m_started && now > m_lastTime)
            m_lastWatts = joules / (now - m_lastTime);
        m_total += joules;
        m_lastTime = now;
        m_started = true;
        return m_total;
    }
    double lastWatts() const override { return m_lastWatts; }

private:
    std::vector<Zone> m_zones;
    bool m_started = false;
    double m_total = 0, m_lastTime = 0, m_lastWatts = 0;
};

} // namespace

std::unique_ptr<PowerSource> openRapl(const std::string &root, std::string *whyNot)
{
    std::vector<Zone> zones;
    std::error_code ec;
    for (const fs::directory_entry &e : fs::directory_iterator(root, ec)) {
        const std::string name = e.path().filename().string();
        if (name.rfind("intel-rapl:", 0) != 0 || std::count(name.begin(), name.end(), ':') != 1)
            continue;
        Zone z;
        z.dir = e.path();
        if (!readCounter(z.dir / "max_energy_range_uj", z.maxRange) || z.maxRange == 0 ||
            !readCounter(z.dir / "energy_uj", z.last)) {
            if (whyNot)
                *whyNot = "RAPL: " + (z.dir / "energy_uj").string() + " is not readable (root-only on most kernels)";
            return nullptr;
        }
        zones.push_back(z);
    }
    if (zones.empty()) {
        if (whyNot)
            *whyNot = "RAPL: no package zones under " + root;
        return nullptr;
    }
    std::sort(zones.begin(), zones.end(), [](const Zone &a, const Zone &b) { return a.dir < b.dir; });
    return std::make_unique<RaplSource>(std::move(zones));
}

} // namespace lathe::cost
