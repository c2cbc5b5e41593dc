#include "model/ArchSpec.h"

#include <algorithm>

namespace lathe {

const std::vector<ArchSpec> &allArchs()
{
    static const std::vector<ArchSpec> archs{llamaArch(), mistralArch(), qwen2Arch(), qwen3Arch()};
    return archs;
}

const ArchSpec *findArch(const std::string &name)
{
    for (const ArchSpec &a : allArchs())
        if (a.name == name)
            return &a;
    return nullptr;
}

const ArchSpec *findArchByGguf(const std::string &ggufArch)
{
    for (const ArchSpec &a : allArchs())
        if (std::find(a.ggufNames.begin(), a.ggufNames.end(), ggufArch) != a.ggufNames.end())
            return &a;
    return nullptr;
}

const ArchSpec *findArchByHf(const std::string &modelType)
{
    for (const ArchSpec &a : allArchs())
        if (std::find(a.hfModelTypes.begin(), a.hfModelTypes.end(), modelType) != a.hfModelTypes.end())
            return &a;
    return nullptr;
}

std::string supportedArchNames()
{
    std::string s;
    for (const ArchSpec &a : allArchs())
        s += (s.empty() ? "" : ", ") + a.name;
    return s;
}

} // namespace lathe
