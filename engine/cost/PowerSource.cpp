// The TDP estimate and the choice of power source (see PowerSource.h).
#include "cost/PowerSource.h"

#include <cstdio>

namespace lathe::cost {

namespace {

class TdpEstimate : public PowerSource
{
public:
    explicit TdpEstimate(double watts) : m_watts(watts) {}
    const char *kind() const override { return "tdp"; }
    bool measured() const override { return false; }
    std::string description() const override
    {
        char buf[96];
        std::snprintf(buf, sizeof buf, "estimate: %.0f W (stated board power) x time", m_watts);
        return buf;
    }
    double energyAt(double now) override
    {
        if (!m_started) {
            m_started = true;
            m_t0 = now;
        }
        return m_watts * (now - m_t0);
    }
    double lastWatts() const override { return m_watts; }

private:
    double m_watts;
    double m_t0 = 0;
    bool m_started = false;
};

} // namespace

std::unique_ptr<PowerSource> makeTdpEstimate(double watts)
{
    return std::make_unique<TdpEstimate>(watts);
}

std::unique_ptr<PowerSource> openPowerSource(const PowerSourceOptions &options, std::string *notes)
{
    std::string why;
    std::unique_ptr<PowerSource> source = options.target == PowerTarget::Gpu
                                              ? openNvml(options.nvmlLibrary, options.gpuIndex, &why)
                                              : openRapl(options.raplRoot, &why);
    if (source)
        return source;
    if (notes)
        *notes = why;
    return makeTdpEstimate(options.tdpWatts);
}

} // namespace lathe::cost
