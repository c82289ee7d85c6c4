#include "runtime/json_check.hpp"

#include <cstring>

#include <emmintrin.h>

namespace gcstream {

const char* to_string(json_fault f) {
  switch (f) {
    case json_fault::ok: return "ok";
    case json_fault::truncated: return "truncated";
    case json_fault::trailing: return "trailing";
    case json_fault::structure: return "structure";
    case json_fault::literal: return "literal";
    case json_fault::number: return "number";
    case json_fault::string: return "string";
    case json_fault::depth: return "depth";
  }
  return "unknown";
}

namespace {

inline bool is_ws(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

inline bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

inline bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// A character that may not follow a number or a literal directly.
inline bool continues_atom(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.'
         || c == '+' || c == '-';
}

// `p` is just past an opening quote; on success, just past the closing one.
json_fault scan_string(const char*& p, const char* end) {
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i control = _mm_set1_epi8(0x1f);
  for (;;) {
    // Sixteen bytes at a time while they are there, to the next byte that
    // matters: a quote, a backslash or a control character.
    while (end - p >= 16) {
      auto x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
      auto hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote),
                                           _mm_cmpeq_epi8(x, backslash)),
                              _mm_cmpeq_epi8(_mm_max_epu8(x, control), control));
      auto mask = _mm_movemask_epi8(hit);
      if (mask != 0) {
        p += __builtin_ctz(static_cast<unsigned>(mask));
        break;
      }
      p += 16;
    }
    // One byte at a time near the end.
    while (p < end && *p != '"' && *p != '\\' && static_cast<unsigned char>(*p) >= 0x20)
      ++p;
    if (p >= end)
      return json_fault::truncated;
    char c = *p;
    if (c == '"') {
      ++p;
      return json_fault::ok;
    }
    if (c != '\\')
      return json_fault::string; // a raw control character
    if (end - p < 2)
      return json_fault::truncated;
    char e = p[1];
    if (e == 'u') {
      if (end - p < 6)
        return json_fault::truncated;
      if (!is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) || !is_hex(p[5]))
        return json_fault::string;
      p += 6;
    } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n'
               || e == 'r' || e == 't') {
      p += 2;
    } else {
      return json_fault::string;
    }
  }
}

json_fault scan_number(const char*& p, const char* end) {
  if (p < end && *p == '-')
    ++p;
  if (p >= end)
    return json_fault::truncated;
  if (*p == '0') {
    ++p;
  } else if (is_digit(*p)) {
    while (p < end && is_digit(*p))
      ++p;
  } else {
    return json_fault::number;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p >= end)
      return json_fault::truncated;
    if (!is_digit(*p))
      return json_fault::number;
    while (p < end && is_digit(*p))
      ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-'))
      ++p;
    if (p >= end)
      return json_fault::truncated;
    if (!is_digit(*p))
      return json_fault::number;
    while (p < end && is_digit(*p))
      ++p;
  }
  if (p < end && continues_atom(*p))
    return json_fault::number;
  return json_fault::ok;
}

json_fault scan_literal(const char*& p, const char* end) {
  const char* word = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
  size_t n = std::strlen(word);
  if (static_cast<size_t>(end - p) < n)
    return std::strncmp(p, word, static_cast<size_t>(end - p)) == 0
             ? json_fault::truncated
             : json_fault::literal;
  if (std::memcmp(p, word, n) != 0)
    return json_fault::literal;
  p += n;
  if (p < end && continues_atom(*p))
    return json_fault::literal;
  return json_fault::ok;
}

} // namespace

json_fault check_json(const char* data, size_t size, size_t max_depth) {
  const char* p = data;
  const char* end = data + size;
  // The open containers: 'o' object, 'a' array.
  char stack[512];
  size_t depth = 0;
  if (max_depth > sizeof(stack))
    max_depth = sizeof(stack);
  auto skip_ws = [&] {
    while (p < end && is_ws(*p))
      ++p;
  };
  enum class want { value, key, after } state = want::value;
  for (;;) {
    skip_ws();
    switch (state) {
      case want::value: {
        if (p >= end)
          return json_fault::truncated;
        char c = *p;
        if (c == '{' || c == '[') {
          if (depth >= max_depth)
            return json_fault::depth;
          stack[depth++] = c == '{' ? 'o' : 'a';
          ++p;
          skip_ws();
          if (p >= end)
            return json_fault::truncated;
          if (*p == (c == '{' ? '}' : ']')) {
            --depth;
            ++p;
            state = want::after;
          } else {
            state = c == '{' ? want::key : want::value;
          }
          continue;
        }
        json_fault f;
        if (c == '"') {
          ++p;
          f = scan_string(p, end);
        } else if (c == '-' || is_digit(c)) {
          f = scan_number(p, end);
        } else if (c == 't' || c == 'f' || c == 'n') {
          f = scan_literal(p, end);
        } else {
          return json_fault::structure;
        }
        if (f != json_fault::ok)
          return f;
        state = want::after;
        continue;
      }
      case want::key: {
        if (p >= end)
          return json_fault::truncated;
        if (*p != '"')
          return json_fault::structure;
        ++p;
        if (auto f = scan_string(p, end); f != json_fault::ok)
          return f;
        skip_ws();
        if (p >= end)
          return json_fault::truncated;
        if (*p != ':')
          return json_fault::structure;
        ++p;
        state = want::value;
        continue;
      }
      case want::after: {
        if (depth == 0)
          return p == end ? json_fault::ok : json_fault::trailing;
        if (p >= end)
          return json_fault::truncated;
        char top = stack[depth - 1];
        if (*p == ',') {
          ++p;
          state = top == 'o' ? want::key : want::value;
          continue;
        }
        if ((*p == '}' && top == 'o') || (*p == ']' && top == 'a')) {
          --depth;
          ++p;
          continue; // still after a value
        }
        return json_fault::structure;
      }
    }
  }
}

} // namespace gcstream
