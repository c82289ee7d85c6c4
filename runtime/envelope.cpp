#include "runtime/envelope.hpp"

#include "runtime/json_check.hpp"

#include <cstring>
#include <deque>
#include <string_view>
#include <unordered_map>

#include <charconv>
#include <limits>

#include <simdjson.h>

#include "runtime/iso8601.hpp"

namespace gcstream {

namespace sj = simdjson;

std::vector<timestamp_rule> default_timestamp_rules() {
  return {
    {"v2.detail.events.conversation.*", "/eventBody/eventTime",
     timestamp_format::epoch_ms},
    {"v2.users.*.presence", "/eventBody/modifiedDate",
     timestamp_format::iso8601},
    {"v2.users.*.routingStatus", "/eventBody/routingStatus/startTime",
     timestamp_format::iso8601},
  };
}

namespace {

bool glob(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// An integer as simdjson's get_int64 reads one: digits with an optional
// minus, no fraction or exponent, within int64.
enum class int_read { ok, not_integer, out_of_range };

int_read read_int64(std::string_view tok, int64_t& out) {
  // (check_json accepted the number: an optional minus, then digits, then
  // perhaps a fraction or an exponent.)
  size_t i = 0;
  bool negative = !tok.empty() && tok[0] == '-';
  if (negative)
    ++i;
  uint64_t v = 0;
  bool overflow = false;
  for (; i < tok.size(); ++i) {
    char c = tok[i];
    if (c < '0' || c > '9')
      return int_read::not_integer; // a fraction or an exponent
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - d) / 10)
      overflow = true;
    v = v * 10 + d;
  }
  uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (overflow || v > limit)
    return int_read::out_of_range;
  out = negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return int_read::ok;
}

} // namespace

class envelope_parser::impl {
public:
  struct compiled {
    std::string pattern;
    /// The slot of the rule's pointer in paths_.
    size_t slot;
    timestamp_format format;
  };

  impl(std::vector<timestamp_rule> rules, std::string id_key) {
    topic_ = paths_.add({"topicName"});
    body_ = paths_.add({"eventBody"});
    message_ = paths_.add({"eventBody", "message"});
    metadata_ = paths_.add({"metadata"});
    correlation_ = paths_.add({"metadata", "CorrelationId"});
    if (!id_key.empty())
      id_key_ = paths_.add({"eventBody", id_key});
    for (auto& r : rules) {
      std::string ptr = r.pointer;
      if (ptr.empty() || ptr[0] != '/')
        ptr = "/" + ptr;
      rules_.push_back(compiled{r.topic_pattern, paths_.add_pointer(ptr), r.format});
    }
    spans_.resize(paths_.size());
  }

  frame_kind parse(const char* data, size_t size, int64_t arrival_ms, envelope& out);

  /// The padded copy behind parse(std::string_view, ...).
  std::string padded;

private:
  // The rule of a topic, cached: topics repeat, globs cost. The cache is
  // keyed by views into its own copies of the topics, so that a lookup
  // copies nothing.
  const compiled* rule_for(std::string_view topic) {
    auto it = cache_.find(topic);
    if (it == cache_.end()) {
      if (cache_.size() >= 4096) {
        cache_.clear();
        cached_topics_.clear();
      }
      int found = -1;
      const std::string& owned = cached_topics_.emplace_back(topic);
      for (size_t i = 0; i < rules_.size(); ++i)
        if (glob(rules_[i].pattern, owned)) {
          found = static_cast<int>(i);
          break;
        }
      it = cache_.emplace(std::string_view{owned}, found).first;
    }
    return it->second < 0 ? nullptr : &rules_[static_cast<size_t>(it->second)];
  }

  // A string value as a view into the frame's own bytes when it has no
  // escape (no copy, and an event can keep viewing it), otherwise unescaped
  // into `buf`. False for a value that is not a string (or a bad escape).
  static bool string_of(const json_span& v, std::string& buf, std::string_view& out) {
    if (v.kind() != '"')
      return false;
    if (!v.escaped) {
      out = v.text();
      return true;
    }
    if (!unescape_json_string(v.text(), buf))
      return false;
    out = buf;
    return true;
  }

  static frame_kind malformed(envelope& out, std::string what) {
    out.kind = frame_kind::malformed;
    out.error = std::move(what);
    return out.kind;
  }

  json_paths paths_;
  std::vector<json_span> spans_;
  size_t topic_ = 0, body_ = 0, message_ = 0, metadata_ = 0, correlation_ = 0;
  size_t id_key_ = json_paths::max; // none
  std::vector<compiled> rules_;
  std::string topic_buf_, id_buf_, tmp_buf_;
  std::unordered_map<std::string_view, int> cache_;
  std::deque<std::string> cached_topics_; // what cache_'s keys view
};

// One pass over the frame checks that it is one complete, valid JSON text
// (runtime/json_check.hpp: an event goes to sinks whole, so all of it must
// be valid, also the parts nobody reads) and records where the few fields
// read here are; simdjson checks the UTF-8 of the whole frame. The fields
// are then read from the frame's bytes in place.
frame_kind envelope_parser::impl::parse(const char* data, size_t size,
                                        int64_t arrival_ms, envelope& out) {
  out.topic = {};
  out.id = {};
  out.error.clear();
  out.ts_ms = arrival_ms;
  out.ts_from_event = false;
  if (auto f = check_json(data, size, paths_, spans_.data()); f != json_fault::ok)
    return malformed(out, std::string{"not valid JSON ("} + to_string(f) + ")");
  if (!sj::validate_utf8(data, size))
    return malformed(out, "not valid JSON: the input is not valid UTF-8");
  // (A root that is not an object has none of these fields.)
  if (!spans_[topic_].found() || !string_of(spans_[topic_], topic_buf_, out.topic))
    return malformed(out, "topicName: expected a string");
  std::string_view sv;
  if (out.topic == "channel.metadata") {
    auto& m = spans_[message_];
    if (m.found() && spans_[body_].kind() == '{' && string_of(m, tmp_buf_, sv)) {
      if (sv == "WebSocket Heartbeat")
        return out.kind = frame_kind::heartbeat;
      if (sv == "pong")
        return out.kind = frame_kind::pong;
    }
    return out.kind = frame_kind::metadata;
  }
  if (starts_with(out.topic, "v2.system.")) {
    if (out.topic == "v2.system.socket_closing")
      return out.kind = frame_kind::socket_closing;
    if (starts_with(out.topic, "v2.system.no_longer_subscribed"))
      return out.kind = frame_kind::no_longer_subscribed;
    if (starts_with(out.topic, "v2.system.token_revoked"))
      return out.kind = frame_kind::token_revoked;
    return out.kind = frame_kind::system;
  }
  // An event: eventBody must be an object.
  if (!spans_[body_].found())
    return malformed(out, "eventBody: missing");
  if (spans_[body_].kind() != '{')
    return malformed(out, "eventBody: expected an object");
  if (const compiled* rule = rule_for(out.topic)) {
    // A missing or unreadable timestamp falls back to the arrival time.
    auto& v = spans_[rule->slot];
    int64_t ts = 0;
    bool ok = false;
    if (v.found() && rule->format == timestamp_format::epoch_ms) {
      char k = v.kind();
      ok = (k == '-' || (k >= '0' && k <= '9')) && read_int64(v.text(), ts) == int_read::ok;
    } else if (v.found()) {
      ok = string_of(v, tmp_buf_, sv) && iso8601_to_epoch_ms(sv, ts);
    }
    if (ok) {
      out.ts_ms = ts;
      out.ts_from_event = true;
    }
  }
  auto& meta = spans_[metadata_];
  if (meta.found() && meta.kind() != '{')
    return malformed(out, "metadata.CorrelationId: expected a string (metadata is not an object)");
  if (auto& c = spans_[correlation_]; c.found()) {
    if (!string_of(c, id_buf_, out.id))
      return malformed(out, "metadata.CorrelationId: expected a string");
  } else if (id_key_ != json_paths::max && spans_[id_key_].found()) {
    auto& v = spans_[id_key_];
    int64_t n;
    char k = v.kind();
    if (k == '"') {
      if (string_of(v, id_buf_, sv))
        out.id = sv;
    } else if ((k == '-' || (k >= '0' && k <= '9'))
               && read_int64(v.text(), n) == int_read::ok) {
      out.id = v.text();
    }
  }
  return out.kind = frame_kind::event;
}

envelope_parser::envelope_parser(std::vector<timestamp_rule> rules,
                                 std::string id_body_key)
  : impl_(std::make_unique<impl>(std::move(rules), std::move(id_body_key))) {
}

envelope_parser::~envelope_parser() = default;

frame_kind envelope_parser::parse(const char* data, size_t size,
                                  size_t /*capacity*/, int64_t arrival_ms,
                                  envelope& out) {
  return impl_->parse(data, size, arrival_ms, out);
}

frame_kind envelope_parser::parse(std::string_view frame, int64_t arrival_ms,
                                  envelope& out) {
  auto& padded = impl_->padded;
  padded.reserve(frame.size() + padding());
  padded.assign(frame);
  return impl_->parse(padded.data(), padded.size(), arrival_ms, out);
}

size_t envelope_parser::padding() {
  return sj::SIMDJSON_PADDING;
}

} // namespace gcstream
