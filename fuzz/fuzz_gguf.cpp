// libFuzzer target: GgufFile::parseBytes on arbitrary bytes. A lathe::Error is the
// expected answer to bad input; anything else (a crash, a sanitizer report, another
// exception, a huge allocation, a timeout) is a bug. Accepted files have their tensor
// views read end to end, so a view that points outside the buffer is caught by ASan.
#include "core/Error.h"
#include "model/gguf/GgufFile.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try {
        const auto file = lathe::GgufFile::parseBytes(data, size, "fuzz.gguf");
        volatile uint8_t sink = 0;
        for (const lathe::TensorView &t : file->tensors()) {
            const auto *p = static_cast<const uint8_t *>(t.data);
            if (t.bytes > 0) // first and last byte: the bounds the parser promised
                sink = sink ^ p[0] ^ p[t.bytes - 1];
        }
        for (const std::string &key : file->keys()) {
            (void)file->find(key);
            try { // the typed getters must answer or throw Error, never crash
                (void)file->getFloat(key);
            } catch (const lathe::Error &) {
            }
        }
    } catch (const lathe::Error &) {
    }
    return 0;
}
