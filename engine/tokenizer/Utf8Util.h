// UTF-8 helpers for the tokenizers: sequence lengths, validation with U+FFFD
// replacement (the defined behaviour for invalid input text), and GPT-2's byte-level
// mapping between raw bytes and printable code points.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace lathe::tok {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if the bytes there are not a
// complete, well-formed sequence (overlongs, surrogates and > U+10FFFF are rejected).
size_t validSequenceLength(std::string_view s, size_t i);

// True if s is entirely well-formed UTF-8.
bool isValidUtf8(std::string_view s);

// s with every maximal ill-formed subsequence replaced by U+FFFD (the Unicode
// "substitution of maximal subparts" practice). Valid input is returned unchanged.
std::string sanitizeUtf8(std::string_view s);

// Length (1..4) of the sequence a lead byte announces; 1 for stray continuation bytes.
inline size_t leadLength(unsigned char c)
{
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1;
}

// At an ill-formed position i: the length (>= 1) of the longest prefix of a well-formed
// sequence there; want is the length the lead byte announces. When i + result ==
// s.size() and result < want, the bytes may still be completed by more input.
size_t maximalSubpart(std::string_view s, size_t i, size_t &want);

void appendUtf8(std::string &out, uint32_t cp);

// Decodes one code point at s[i] (s must be valid there); advances i.
uint32_t decodeUtf8(std::string_view s, size_t &i);

// GPT-2 byte-level alphabet: byte b <-> code point byteToCodePoint(b). Printable
// Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in order.
uint32_t byteToCodePoint(uint8_t b);
// -1 if cp is not in the byte-level alphabet.
int codePointToByte(uint32_t cp);

// Decodes a byte-level piece ("Ġhello") to raw bytes (" hello"). Returns false if a code
// point outside the alphabet occurs; out then holds the raw UTF-8 for those.
bool byteLevelDecode(std::string_view piece, std::string &out);
std::string byteLevelEncode(std::string_view bytes);

} // namespace lathe::tok
