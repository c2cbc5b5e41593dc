// Unicode canonical composition (NFC) for the tokenizers whose tokenizer.json asks for it
// (Qwen). Tables are generated from the Unicode Character Database (NfcData.h).
#pragma once

#include <string>
#include <string_view>

namespace lathe::tok {

// NFC of valid UTF-8 text. Text that cannot change (ASCII, and text without combining
// marks, Hangul jamo or composition-excluded characters) is returned as is, cheaply.
std::string toNfc(std::string_view text);

} // namespace lathe::tok
