// Weights: the named tensors of one model, as views onto memory the store keeps
// alive (file mappings or owned buffers). Names are canonical (GGUF style, see
// WeightNames.h) whatever file format they came from.
#pragma once

#include "core/Tensor.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lathe {

class Weights
{
public:
    // Throws Error if a tensor of that name is already present.
    void add(TensorView view);
    const TensorView *find(const std::string &name) const;
    const TensorView &get(const std::string &name) const; // throws "missing tensor NAME"
    std::vector<std::string> names() const;
    size_t count() const { return m_tensors.size(); }
    size_t totalBytes() const;

    // Keeps an owner (a MappedFile, a buffer) alive as long as these weights.
    void keepAlive(std::shared_ptr<const void> owner) { m_owners.push_back(std::move(owner)); }

private:
    std::map<std::string, TensorView> m_tensors;
    std::vector<std::shared_ptr<const void>> m_owners;
};

} // namespace lathe
