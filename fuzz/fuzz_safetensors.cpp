// libFuzzer entry for the safetensors parser: any bytes must either parse into views
// that lie inside the input, or fail with lathe::Error; never crash, hang or overread.
#include "core/Error.h"
#include "model/hf/SafetensorsFile.h"

#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try {
        const auto file = lathe::SafetensorsFile::parseBytes(data, size, "fuzz.safetensors");
        // Touch every byte of every view so that ASan sees any view that leaves the copy.
        volatile uint8_t sink = 0;
        for (const lathe::TensorView &t : file->tensors()) {
            const auto *p = static_cast<const uint8_t *>(t.data);
            for (size_t i = 0; i < t.bytes; ++i)
                sink = sink ^ p[i];
            if (size_t(t.numel()) * size_t(lathe::dtypeInfo(t.dtype).blockBytes) != t.bytes)
                __builtin_trap(); // a view whose shape disagrees with its size is a parser bug
        }
        (void)sink;
    } catch (const lathe::Error &) {
    }
    return 0;
}
