// GPU board power through NVML, loaded at run time (see PowerSource.h). Only the five
// entry points used are declared here, with the C ABI NVML documents; nothing from the
// driver is needed at build time. Energy is the trapezoidal integral of the readings.
#include "cost/PowerSource.h"

#include "core/Error.h"

#include <dlfcn.h>

#include <cstdio>

namespace lathe::cost {

namespace {

using NvmlReturn = int; // nvmlReturn_t: 0 is NVML_SUCCESS
using NvmlDevice = struct NvmlDeviceOpaque *;

struct NvmlApi
{
    NvmlReturn (*init)() = nullptr;
    NvmlReturn (*shutdown)() = nullptr;
    NvmlReturn (*handleByIndex)(unsigned, NvmlDevice *) = nullptr;
    NvmlReturn (*powerUsage)(NvmlDevice, unsigned *) = nullptr; // milliwatts
    NvmlReturn (*name)(NvmlDevice, char *, unsigned) = nullptr;
    const char *(*errorString)(NvmlReturn) = nullptr;
};

// dlclose on destruction: the library stays loaded exactly as long as a source uses it.
struct Library
{
    void *handle = nullptr;
    ~Library()
    {
        if (handle)
            dlclose(handle);
    }
};

template <typename Fn>
bool load(void *lib, const char *symbol, Fn &fn)
{
    fn = reinterpret_cast<Fn>(dlsym(lib, symbol));
    return fn != nullptr;
}

class NvmlSource : public PowerSource
{
public:
    NvmlSource(std::unique_ptr<Library> lib, NvmlApi api, NvmlDevice device, std::string name, int index)
        : m_lib(std::move(lib)), m_api(api), m_device(device), m_name(std::move(name)), m_index(index) {}
    ~NvmlSource() override { m_api.shutdown(); }
    const char *kind() const override { return "nvml"; }
    bool measured() const override { return true; }
    std::string description() const override
    {
        return "NVML: " + m_name + " (GPU " + std::to_string(m_index) + ") board power";
    }
    double energyAt(double now) override
    {
        unsigned milliwatts = 0;
        if (const NvmlReturn rc = m_api.powerUsage(m_device, &milliwatts); rc != 0)
            fail("NVML: nvmlDeviceGetPowerUsage failed: " + std::string(m_api.errorString(rc)));
        const double watts = milliwatts * 1e-3;
        if (m_started && now > m_lastTime)
            m_total += 0.5 * (watts + m_lastWatts) * (now - m_lastTime);
        m_lastWatts = watts;
        m_lastTime = now;
        m_started = true;
        return m_total;
    }
    double lastWatts() const override { return m_lastWatts; }

private:
    std::unique_ptr<Library> m_lib;
    NvmlApi m_api;
    NvmlDevice m_device;
    std::string m_name;
    int m_index;
    bool m_started = false;
    double m_total = 0, m_lastTime = 0, m_lastWatts = 0;
};

} // namespace

std::unique_ptr<PowerSource> openNvml(const std::string &library, int gpuIndex, std::string *whyNot)
{
    auto why = [&](const std::string &text) {
        if (whyNot)
            *whyNot = "NVML: " + text;
        return nullptr;
    };
    auto lib = std::make_unique<Library>();
    lib->handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib->handle) {
        const char *err = dlerror();
        return why("cannot load " + library + (err ? std::string(": ") + err : std::string()));
    }
    NvmlApi api;
    if (!load(lib->handle, "nvmlInit_v2", api.init) || !load(lib->handle, "nvmlShutdown", api.shutdown) ||
        !load(lib->handle, "nvmlDeviceGetHandleByIndex_v2", api.handleByIndex) ||
        !load(lib->handle, "nvmlDeviceGetPowerUsage", api.powerUsage) ||
        !load(lib->handle, "nvmlDeviceGetName", api.name) || !load(lib->handle, "nvmlErrorString", api.errorString))
        return why(library + " lacks an entry point Lathe needs");
    if (const NvmlReturn rc = api.init(); rc != 0)
        return why(std::string("nvmlInit failed: ") + api.errorString(rc));
    NvmlDevice device = nullptr;
    unsigned milliwatts = 0;
    NvmlReturn rc = api.handleByIndex(unsigned(gpuIndex), &device);
    if (rc == 0)
        rc = api.powerUsage(device, &milliwatts); // some boards report no power at all
    if (rc != 0) {
        const std::string text = api.errorString(rc);
        api.shutdown();
        return why("GPU " + std::to_string(gpuIndex) + ": " + text);
    }
    char name[96] = "unknown GPU";
    api.name(device, name, sizeof name);
    return std::make_unique<NvmlSource>(std::move(lib), api, device, name, gpuIndex);
}

} // namespace lathe::cost
