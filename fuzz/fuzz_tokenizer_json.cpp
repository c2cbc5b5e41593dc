// libFuzzer target: Tokenizer::fromTokenizerJson on arbitrary bytes, then encoding and
// decoding a fixed string (special tokens on and off) with whatever was accepted. A
// lathe::Error is the expected answer to bad input; a crash, sanitizer report, other
// exception, huge allocation or timeout is a bug.
#include "core/Error.h"
#include "tokenizer/Tokenizer.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string_view bytes(reinterpret_cast<const char *>(data), size);
    try {
        const lathe::Tokenizer tok = lathe::Tokenizer::fromTokenizerJson(bytes);
        for (bool special : {true, false}) {
            lathe::EncodeOptions opt;
            opt.parseSpecial = special;
            const auto ids = tok.encode("Hello, world! <|im_start|>  \xC3\xA9\xE4\xB8\xAD 123 \xFF\n", opt);
            (void)tok.decode(ids, special);
            auto stream = tok.streamDecoder();
            for (int32_t id : ids)
                (void)stream.feed(id);
            (void)stream.flush();
        }
    } catch (const lathe::Error &) {
    }
    return 0;
}
