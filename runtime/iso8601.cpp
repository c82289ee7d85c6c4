#include "runtime/iso8601.hpp"

namespace gcstream {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

} // namespace

bool iso8601_to_epoch_ms(std::string_view s, int64_t& out) {
  const char* p = s.data();
  const char* e = p + s.size();
  auto digits = [&](int n, int& v) {
    if (e - p < n)
      return false;
    for (v = 0; n > 0; --n, ++p) {
      if (static_cast<unsigned>(*p - '0') > 9)
        return false;
      v = v * 10 + (*p - '0');
    }
    return true;
  };
  auto literal = [&](char c) {
    if (p < e && *p == c) {
      ++p;
      return true;
    }
    return false;
  };
  int year, month, day, hour, minute, second, ms = 0;
  if (!digits(4, year) || !literal('-') || !digits(2, month) || !literal('-')
      || !digits(2, day) || !(literal('T') || literal(' '))
      || !digits(2, hour) || !literal(':') || !digits(2, minute)
      || !literal(':') || !digits(2, second))
    return false;
  if (literal('.')) {
    int n = 0;
    for (; p < e && static_cast<unsigned>(*p - '0') <= 9; ++p, ++n)
      if (n < 3)
        ms = ms * 10 + (*p - '0');
    if (n == 0)
      return false;
    for (; n < 3; ++n)
      ms *= 10;
  }
  int offset_min = 0;
  if (!literal('Z')) {
    if (p == e || (*p != '+' && *p != '-'))
      return false;
    int sign = *p++ == '-' ? -1 : 1;
    int oh, om;
    if (!digits(2, oh))
      return false;
    literal(':');
    if (!digits(2, om) || oh > 23 || om > 59)
      return false;
    offset_min = sign * (oh * 60 + om);
  }
  static const int month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  if (p != e || month < 1 || month > 12 || day < 1
      || day > month_days[month - 1] || (month == 2 && day == 29 && !leap)
      || hour > 23 || minute > 59 || second > 60)
    return false;
  int64_t minutes = (days_from_civil(year, static_cast<unsigned>(month),
                                     static_cast<unsigned>(day))
                       * 24
                     + hour)
                      * 60
                    + minute - offset_min;
  out = minutes * 60000 + int64_t{second} * 1000 + ms;
  return true;
}

} // namespace gcstream
