// DeviceRegistry: the one place that decides which devices exist. A CUDA build adds
// its devices here under #if LATHE_WITH_CUDA; nothing else in the engine checks it.
#include "backend/DeviceRegistry.h"

#include "backend/cpu/CpuDevice.h"
#include "core/Error.h"

#include <thread>

namespace lathe {

std::vector<DeviceInfo> DeviceRegistry::available() const
{
    std::vector<DeviceInfo> list;
    list.push_back({"cpu", "CPU, " + std::to_string(std::thread::hardware_concurrency()) + " hardware threads"});
#if LATHE_WITH_CUDA
    // CUDA devices are listed here once the CUDA device exists.
#endif
    return list;
}

std::unique_ptr<Device> DeviceRegistry::create(const std::string &name, const DeviceOptions &options) const
{
    std::unique_ptr<Device> device;
    if (name == "cpu")
        device = std::make_unique<CpuDevice>(options.threads);
    if (!device) {
        std::string names;
        for (const DeviceInfo &d : available())
            names += (names.empty() ? "" : ", ") + d.name;
        fail("unknown device '" + name + "' (available: " + names + ")");
    }
    device->setMemoryLimit(options.memoryLimit);
    return device;
}

} // namespace lathe
