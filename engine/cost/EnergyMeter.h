// EnergyMeter: integrates a PowerSource over a job on a background thread (one reading
// per `interval`, default 1 s), so NVML power is sampled often enough and RAPL counters
// never wrap unseen. If a measured source fails mid-job, the rest of the job is
// estimated from the stated TDP and the whole figure is labelled estimated.
#pragma once

#include "cost/CostModel.h"
#include "cost/PowerSource.h"

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace lathe::cost {

class EnergyMeter
{
public:
    // Starts sampling at once. fallbackWatts is used only if the source fails.
    EnergyMeter(std::unique_ptr<PowerSource> source, double fallbackWatts,
                std::chrono::milliseconds interval = std::chrono::milliseconds(1000));
    ~EnergyMeter(); // stops the thread
    EnergyMeter(const EnergyMeter &) = delete;
    EnergyMeter &operator=(const EnergyMeter &) = delete;

    // Energy so far (takes a fresh reading). Thread-safe.
    Energy energy();
    double watts() const; // last instantaneous reading
    std::string description() const;
    // Final reading; the thread stops and energy() keeps returning this value.
    Energy stop();

private:
    void loop();
    void sampleLocked(double now);

    std::unique_ptr<PowerSource> m_source;
    double m_fallbackWatts;
    std::chrono::milliseconds m_interval;
    std::chrono::steady_clock::time_point m_t0;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false, m_failed = false;
    double m_joules = 0, m_failedAt = 0, m_joulesAtFailure = 0;
    std::string m_failure;
    std::thread m_thread;
};

} // namespace lathe::cost
