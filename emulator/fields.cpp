#include "emulator/fields.hpp"

#include <algorithm>
#include <sstream>

namespace gcstream::emulator {

fields::fields(const nlohmann::json& j, const std::vector<std::string>& allowed)
  : j_(j) {
  if (!j.is_object()) {
    fail("the body must be a JSON object");
    return;
  }
  for (auto& item : j.items())
    if (std::find(allowed.begin(), allowed.end(), item.key()) == allowed.end()) {
      std::string list;
      for (auto& a : allowed)
        list += (list.empty() ? "" : ", ") + a;
      fail(item.key() + ": unknown field (expected one of: " + list + ")");
      return;
    }
}

void fields::fail(const std::string& what) {
  if (error_.empty())
    error_ = what;
}

uint64_t fields::integer(const char* key, uint64_t lo, uint64_t hi, uint64_t dflt) {
  if (!has(key))
    return dflt;
  auto& v = j_[key];
  if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned())
      || v.get<uint64_t>() < lo || v.get<uint64_t>() > hi) {
    fail(std::string{key} + ": expected an integer from " + std::to_string(lo)
         + " to " + std::to_string(hi));
    return dflt;
  }
  return v.get<uint64_t>();
}

double fields::number(const char* key, double lo, double hi, double dflt) {
  if (!has(key))
    return dflt;
  auto& v = j_[key];
  if (!v.is_number() || v.get<double>() < lo || v.get<double>() > hi) {
    std::ostringstream os;
    os << key << ": expected a number from " << lo << " to " << hi;
    fail(os.str());
    return dflt;
  }
  return v.get<double>();
}

std::string fields::text(const char* key, size_t max_len, const std::string& dflt) {
  if (!has(key))
    return dflt;
  auto& v = j_[key];
  if (!v.is_string() || v.get_ref<const std::string&>().size() > max_len) {
    fail(std::string{key} + ": expected a string of at most " + std::to_string(max_len)
         + " bytes");
    return dflt;
  }
  return v.get<std::string>();
}

std::string fields::choice(const char* key, std::initializer_list<const char*> options,
                           const std::string& dflt) {
  if (!has(key))
    return dflt;
  auto& v = j_[key];
  std::string list;
  for (auto* o : options)
    list += (list.empty() ? "" : ", ") + std::string{o};
  if (!v.is_string()
      || std::none_of(options.begin(), options.end(), [&](const char* o) {
           return v.get_ref<const std::string&>() == o;
         })) {
    fail(std::string{key} + ": expected one of: " + list);
    return dflt;
  }
  return v.get<std::string>();
}

} // namespace gcstream::emulator
