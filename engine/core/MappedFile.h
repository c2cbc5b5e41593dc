// MappedFile: a read-only memory mapping of a whole file (RAII). Weights are used in
// place from the mapping: loaders validate offsets against size() and hand out views.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace lathe {

class MappedFile
{
public:
    // Maps path read-only. Throws Error naming the path if it cannot be opened or mapped.
    // An empty file maps to size() == 0 and data() == nullptr.
    static std::shared_ptr<const MappedFile> open(const std::string &path);

    ~MappedFile();
    MappedFile(const MappedFile &) = delete;
    MappedFile &operator=(const MappedFile &) = delete;

    const uint8_t *data() const { return m_data; }
    size_t size() const { return m_size; }
    const std::string &path() const { return m_path; }

private:
    MappedFile(std::string path, const uint8_t *data, size_t size)
        : m_path(std::move(path)), m_data(data), m_size(size) {}

    std::string m_path;
    const uint8_t *m_data = nullptr;
    size_t m_size = 0;
};

} // namespace lathe
