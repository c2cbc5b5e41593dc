// Utf8: code point views of UTF-8 strings, because Python strings index, slice, measure
// and case-map by code point. Invalid bytes round-trip as lone surrogates U+DC80..U+DCFF
// (Python's surrogateescape), so hostile templates never lose or invent bytes.
#pragma once

#include <string>

namespace lathe::jinja::utf8 {

std::u32string decode(const std::string &s);
std::string encode(const std::u32string &s);
void append(std::string &out, char32_t c);
size_t length(const std::string &s);

// Python's str.isspace() for one code point.
bool isSpace(char32_t c);
// Simple case mapping: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic basics.
char32_t toLower(char32_t c);
char32_t toUpper(char32_t c);
bool isAlpha(char32_t c);
bool isDigit(char32_t c);

} // namespace lathe::jinja::utf8
