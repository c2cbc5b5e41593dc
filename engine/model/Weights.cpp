#include "model/Weights.h"

#include "core/Error.h"

namespace lathe {

void Weights::add(TensorView view)
{
    const std::string name = view.name;
    if (!m_tensors.emplace(name, std::move(view)).second)
        fail("duplicate tensor " + name);
}

const TensorView *Weights::find(const std::string &name) const
{
    const auto it = m_tensors.find(name);
    return it == m_tensors.end() ? nullptr : &it->second;
}

const TensorView &Weights::get(const std::string &name) const
{
    if (const TensorView *t = find(name))
        return *t;
    fail("missing tensor " + name);
}

std::vector<std::string> Weights::names() const
{
    std::vector<std::string> out;
    out.reserve(m_tensors.size());
    for (const auto &[name, view] : m_tensors)
        out.push_back(name);
    return out;
}

size_t Weights::totalBytes() const
{
    size_t total = 0;
    for (const auto &[name, view] : m_tensors)
        total += view.bytes;
    return total;
}

} // namespace lathe
