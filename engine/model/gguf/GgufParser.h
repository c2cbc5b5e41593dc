// GgufParser: fills a GgufFile from the bytes of a GGUF file. Internal to
// engine/model/gguf (GgufFile::parse and parseBytes are the public entry points).
// Every count and length is checked against the bytes that remain before anything is
// allocated from it; errors are thrown without the path (the caller prefixes it).
#pragma once

#include "model/gguf/GgufFile.h"

#include <cstddef>
#include <cstdint>
#include <string>

namespace lathe {

class GgufParser
{
public:
    // Limits of the format as this engine accepts it.
    static constexpr uint32_t kMaxDims = 4;      // ggml's GGML_MAX_DIMS
    static constexpr int kMaxArrayNesting = 4;   // arrays of arrays deeper than this are refused
    static constexpr uint32_t kDefaultAlignment = 32;
    // Elements per metadata array. Real files stay far below (the largest vocabularies
    // have ~260K tokens and merges); the cap bounds memory, as a stored element costs up
    // to 16x its encoded size.
    static constexpr uint64_t kMaxArrayLength = uint64_t(1) << 24;

    GgufParser(GgufFile &out, const uint8_t *data, size_t size) : m_out(out), m_data(data), m_size(size) {}
    void run();

private:
    struct TensorInfo
    {
        std::string name;
        uint32_t ggmlType = 0;
        uint64_t offset = 0;
        TensorView view;
    };

    void need(size_t n, const char *what) const;
    uint8_t u8();
    uint32_t u32();
    uint64_t u64();
    std::string string(const char *what);
    // Fails unless count items of at least minBytes each fit in the remaining bytes.
    void checkCount(uint64_t count, size_t minBytes, const std::string &what) const;

    void readHeader();
    void readMetadata(uint64_t count);
    void readValue(GgufValue &v, GgufType type, int depth);
    void readArray(GgufValue &v, int depth);
    void applyAlignment();
    TensorInfo readTensorInfo();
    void placeTensors(std::vector<TensorInfo> &infos);

    GgufFile &m_out;
    const uint8_t *m_data;
    size_t m_size;
    size_t m_pos = 0;
};

// Smallest encoding of one value of the type (strings: the length field; arrays:
// element type and count), used to bound counts before allocating.
size_t ggufMinValueBytes(GgufType type);
bool ggufTypeValid(uint32_t type);
const char *ggufTypeName(GgufType type);

} // namespace lathe
