// PowerSource: where the energy a job used comes from, always labelled honestly.
//   NVML  (measured): the GPU's board power, loaded at run time with dlopen
//         ("libnvidia-ml.so.1"), so the build never depends on the driver;
//   RAPL  (measured): CPU package energy counters under /sys/class/powercap;
//   TDP   (estimated): the stated board power x time, an upper bound.
// A GPU job tries NVML then the estimate (RAPL would measure the wrong chip); a CPU job
// tries RAPL then the estimate.
#pragma once

#include <memory>
#include <string>

namespace lathe::cost {

class PowerSource
{
public:
    virtual ~PowerSource() = default;
    virtual const char *kind() const = 0; // "nvml", "rapl", "tdp"
    virtual bool measured() const = 0;
    virtual std::string description() const = 0; // for logs and the cost card
    // Joules used since the first call (which returns 0), at time `now` in seconds on a
    // monotonic clock. Must be called at least every few seconds: NVML integrates
    // power readings between calls, RAPL counters wrap. Throws Error on a failed read.
    virtual double energyAt(double now) = 0;
    // The last instantaneous power seen (W), 0 before two calls.
    virtual double lastWatts() const = 0;
};

enum class PowerTarget { Gpu, Cpu };

struct PowerSourceOptions
{
    PowerTarget target = PowerTarget::Gpu;
    int gpuIndex = 0;
    double tdpWatts = 0; // the fallback's constant draw; 0 gives an estimate of 0 J
    std::string raplRoot = "/sys/class/powercap";
    std::string nvmlLibrary = "libnvidia-ml.so.1";
};

// A constant draw of watts (estimated).
std::unique_ptr<PowerSource> makeTdpEstimate(double watts);
// RAPL package zones under root ("intel-rapl:N", also used for AMD); nullptr with the
// reason in whyNot when there are none or they cannot be read (often root-only).
std::unique_ptr<PowerSource> openRapl(const std::string &root, std::string *whyNot);
// GPU gpuIndex through NVML; nullptr with the reason when the library, the device or
// the power reading is unavailable.
std::unique_ptr<PowerSource> openNvml(const std::string &library, int gpuIndex, std::string *whyNot);
// The best source for the target as described in the banner. notes (optional) receives
// why measured sources were passed over, for the log.
std::unique_ptr<PowerSource> openPowerSource(const PowerSourceOptions &options, std::string *notes = nullptr);

} // namespace lathe::cost
