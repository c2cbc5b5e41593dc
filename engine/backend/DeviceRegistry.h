// DeviceRegistry: creates compute devices by name and lists what this build and machine
// offer. The only file that knows which device implementations were compiled in.
#pragma once

#include "backend/Device.h"

#include <memory>
#include <string>
#include <vector>

namespace lathe {

struct DeviceOptions
{
    int threads = 0;        // CPU worker threads; <= 0: all hardware threads
    int64_t memoryLimit = 0; // bytes; 0: none
};

struct DeviceInfo
{
    std::string name;        // "cpu", later "cuda:0"
    std::string description; // for `lathe-cli devices` and the GUI
};

class DeviceRegistry
{
public:
    std::vector<DeviceInfo> available() const;
    // Throws Error listing the available names if name is unknown.
    std::unique_ptr<Device> create(const std::string &name, const DeviceOptions &options = {}) const;
};

} // namespace lathe
