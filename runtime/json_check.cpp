#include "runtime/json_check.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

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

unsigned hex_value(char c) {
  if (c >= '0' && c <= '9')
    return static_cast<unsigned>(c - '0');
  if (c >= 'a' && c <= 'f')
    return static_cast<unsigned>(c - 'a' + 10);
  return static_cast<unsigned>(c - 'A' + 10);
}

unsigned hex4(const char* p) {
  return hex_value(p[0]) << 12 | hex_value(p[1]) << 8 | hex_value(p[2]) << 4
         | hex_value(p[3]);
}

// A character that may not follow a number or a literal directly.
inline bool continues_atom(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.'
         || c == '+' || c == '-';
}

// `p` is just past an opening quote; on success, just past the closing one.
json_fault scan_string(const char*& p, const char* end, bool& escaped) {
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
    escaped = true;
    if (end - p < 2)
      return json_fault::truncated;
    char e = p[1];
    if (e == 'u') {
      if (end - p < 6)
        return json_fault::truncated;
      if (!is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) || !is_hex(p[5]))
        return json_fault::string;
      // A surrogate must come as a pair, high then low: alone it is no
      // character (simdjson and most parsers refuse it, so a sink might).
      auto unit = hex4(p + 2);
      if (unit >= 0xDC00 && unit <= 0xDFFF)
        return json_fault::string;
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        if (end - p < 12) { // the text ends in the pair, or it is no pair
          for (const char* q = p + 6; q < end; ++q)
            if (q == p + 6 ? *q != '\\' : q == p + 7 ? *q != 'u' : !is_hex(*q))
              return json_fault::string;
          return json_fault::truncated;
        }
        if (p[6] != '\\' || p[7] != 'u' || !is_hex(p[8]) || !is_hex(p[9])
            || !is_hex(p[10]) || !is_hex(p[11]))
          return json_fault::string;
        auto low = hex4(p + 8);
        if (low < 0xDC00 || low > 0xDFFF)
          return json_fault::string;
        p += 6;
      }
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

// The checker, and (Capture) the recorder of json_paths' values. The
// recorder keeps, for each open container, the paths that may still match
// below it (a bit each), so that a key costs a comparison only where a
// path leads.
template <bool Capture>
json_fault run(const char* data, size_t size, size_t max_depth,
               const json_paths* paths, json_span* spans) {
  const char* p = data;
  const char* end = data + size;
  // The open containers: 'o' object, 'a' array.
  char stack[512];
  // (Capture) the paths that lead through each open container, and the
  // number of elements an array has had so far.
  uint64_t masks[Capture ? 512 : 1];
  uint32_t index[Capture ? 512 : 1];
  uint64_t found = 0;   // paths recorded (the first occurrence counts)
  uint64_t at_end = 0;  // paths that end at the next value
  uint64_t through = 0; // paths that go on inside the next value
  size_t depth = 0;
  if (max_depth > sizeof(stack))
    max_depth = sizeof(stack);
  if constexpr (Capture) {
    for (size_t i = 0; i < paths->size(); ++i) {
      spans[i] = json_span{};
      if (!paths->path(i).empty())
        through |= uint64_t{1} << i;
    }
  }
  // Which of `candidates` (paths through the container at `depth`) the key
  // or index `seg` continues.
  auto match = [&](std::string_view seg, uint64_t candidates) {
    for (uint64_t m = candidates; m != 0; m &= m - 1) {
      auto bit = static_cast<unsigned>(__builtin_ctzll(m));
      auto& segs = paths->path(bit);
      if (segs[depth - 1] == seg)
        (segs.size() == depth ? at_end : through) |= uint64_t{1} << bit;
    }
  };
  // (Anything above a space is no space: one comparison in the usual case.)
  auto skip_ws = [&] {
    while (p < end && static_cast<unsigned char>(*p) <= ' ' && is_ws(*p))
      ++p;
  };
  enum class want { value, key, after } state = want::value;
  for (;;) {
    skip_ws();
    switch (state) {
      case want::value: {
        if (p >= end)
          return json_fault::truncated;
        uint64_t ends = 0, goes_on = 0;
        if constexpr (Capture) {
          if (depth > 0 && masks[depth - 1] != 0 && stack[depth - 1] == 'a') {
            auto seg = std::to_string(index[depth - 1]++);
            match(seg, masks[depth - 1]);
          }
          if ((at_end | through) != 0) { // (the usual case: no path here)
            ends = at_end & ~found;
            goes_on = through;
            at_end = through = 0;
            found |= ends;
            for (uint64_t m = ends; m != 0; m &= m - 1)
              spans[__builtin_ctzll(m)].begin = p;
          }
        }
        char c = *p;
        if (c == '{' || c == '[') {
          if (depth >= max_depth)
            return json_fault::depth;
          if constexpr (Capture) {
            masks[depth] = goes_on;
            index[depth] = 0;
            for (uint64_t m = ends; m != 0; m &= m - 1)
              spans[__builtin_ctzll(m)].end = p + 1;
          }
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
        bool escaped = false;
        if (c == '"') {
          ++p;
          f = scan_string(p, end, escaped);
        } else if (c == '-' || is_digit(c)) {
          f = scan_number(p, end);
        } else if (c == 't' || c == 'f' || c == 'n') {
          f = scan_literal(p, end);
        } else {
          return json_fault::structure;
        }
        if (f != json_fault::ok)
          return f;
        if constexpr (Capture) {
          for (uint64_t m = ends; m != 0; m &= m - 1) {
            auto& span = spans[__builtin_ctzll(m)];
            span.end = p;
            span.escaped = escaped;
          }
        }
        state = want::after;
        continue;
      }
      case want::key: {
        if (p >= end)
          return json_fault::truncated;
        if (*p != '"')
          return json_fault::structure;
        const char* key = ++p;
        bool escaped = false;
        if (auto f = scan_string(p, end, escaped); f != json_fault::ok)
          return f;
        if constexpr (Capture) {
          if (masks[depth - 1] != 0) {
            std::string_view raw{key, static_cast<size_t>(p - 1 - key)};
            if (!escaped) {
              match(raw, masks[depth - 1]);
            } else { // (rare) a key is compared as it reads, not as written
              std::string decoded;
              unescape_json_string(raw, decoded);
              match(decoded, masks[depth - 1]);
            }
          }
        }
        if (p < end && *p == ':') { // (the usual case: no space)
          ++p;
          state = want::value;
          continue;
        }
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

} // namespace

json_fault check_json(const char* data, size_t size, size_t max_depth) {
  return run<false>(data, size, max_depth, nullptr, nullptr);
}

json_fault check_json(const char* data, size_t size, const json_paths& paths,
                      json_span* spans, size_t max_depth) {
  return run<true>(data, size, max_depth, &paths, spans);
}

size_t json_paths::add(std::vector<std::string> segments) {
  for (size_t i = 0; i < paths_.size(); ++i)
    if (paths_[i] == segments)
      return i;
  if (paths_.size() >= max)
    throw std::length_error("json_paths: more than 64 paths");
  paths_.push_back(std::move(segments));
  return paths_.size() - 1;
}

size_t json_paths::add_pointer(std::string_view pointer) {
  std::vector<std::string> segs;
  if (!pointer.empty() && pointer[0] == '/')
    pointer.remove_prefix(1);
  else if (pointer.empty())
    return add({});
  for (;;) {
    auto slash = pointer.find('/');
    auto raw = pointer.substr(0, slash);
    std::string seg;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '~' && i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        seg += raw[i + 1] == '0' ? '~' : '/';
        ++i;
      } else {
        seg += raw[i];
      }
    }
    segs.push_back(std::move(seg));
    if (slash == std::string_view::npos)
      break;
    pointer.remove_prefix(slash + 1);
  }
  return add(std::move(segs));
}

namespace {

void put_utf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

} // namespace

bool unescape_json_string(std::string_view text, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    char e = text[++i]; // check_json saw a whole escape here
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        uint32_t cp = hex4(text.data() + i + 1);
        i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
          return false; // a low surrogate first
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          if (i + 6 >= text.size() + 0 || text[i + 1] != '\\' || text[i + 2] != 'u')
            return false; // a high surrogate alone
          uint32_t low = hex4(text.data() + i + 3);
          if (low < 0xDC00 || low > 0xDFFF)
            return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        put_utf8(cp, out);
        break;
      }
      default: out += e; break; // " \ /
    }
  }
  return true;
}

} // namespace gcstream
