// Background energy integration (see EnergyMeter.h).
#include "cost/EnergyMeter.h"

#include "core/Error.h"

namespace lathe::cost {

EnergyMeter::EnergyMeter(std::unique_ptr<PowerSource> source, double fallbackWatts, std::chrono::milliseconds interval)
    : m_source(std::move(source)), m_fallbackWatts(fallbackWatts), m_interval(interval),
      m_t0(std::chrono::steady_clock::now())
{
    std::lock_guard lock(m_mutex);
    sampleLocked(0.0);
    m_thread = std::thread([this] { loop(); });
}

EnergyMeter::~EnergyMeter()
{
    stop();
}

void EnergyMeter::sampleLocked(double now)
{
    if (m_stop)
        return;
    if (!m_failed) {
        try {
            m_joules = m_source->energyAt(now);
            return;
        } catch (const Error &e) {
            m_failed = true;
            m_failure = e.what();
            m_failedAt = now;
            m_joulesAtFailure = m_joules;
        }
    }
    m_joules = m_joulesAtFailure + m_fallbackWatts * (now - m_failedAt);
}

Energy EnergyMeter::energy()
{
    std::lock_guard lock(m_mutex);
    sampleLocked(std::chrono::duration<double>(std::chrono::steady_clock::now() - m_t0).count());
    return {m_joules, m_failed ? std::string("tdp") : std::string(m_source->kind()),
            m_source->measured() && !m_failed};
}

double EnergyMeter::watts() const
{
    std::lock_guard lock(m_mutex);
    return m_failed ? m_fallbackWatts : m_source->lastWatts();
}

std::string EnergyMeter::description() const
{
    std::lock_guard lock(m_mutex);
    return m_failed ? m_source->description() + "; failed (" + m_failure + "), rest estimated"
                    : m_source->description();
}

Energy EnergyMeter::stop()
{
    Energy e = energy();
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable())
        m_thread.join();
    return e;
}

void EnergyMeter::loop()
{
    std::unique_lock lock(m_mutex);
    while (!m_stop) {
        m_wake.wait_for(lock, m_interval, [&] { return m_stop; });
        sampleLocked(std::chrono::duration<double>(std::chrono::steady_clock::now() - m_t0).count());
    }
}

} // namespace lathe::cost
