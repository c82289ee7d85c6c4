#include "runtime/envelope.hpp"

#include "runtime/json_check.hpp"

#include <cstring>
#include <deque>
#include <string_view>
#include <unordered_map>

#include <simdjson.h>

#include "runtime/iso8601.hpp"

namespace gcstream {

namespace sj = simdjson;
namespace od = simdjson::ondemand;

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

// A value's token as written in the frame, without the spaces simdjson
// counts with it. raw_json_token() only peeks: the value can still be read.
std::string_view token_of(od::value v) {
  std::string_view tok = v.raw_json_token();
  while (!tok.empty() && (tok.back() == ' ' || tok.back() == '\n'
                          || tok.back() == '\r' || tok.back() == '\t'))
    tok.remove_suffix(1);
  return tok;
}

// A string value as a view into the frame's own bytes when it has no escape
// (no copy, and an event can keep viewing it), otherwise unescaped into the
// parser's buffer.
sj::error_code string_of(od::value v, std::string_view& out) {
  std::string_view tok = token_of(v);
  if (tok.size() >= 2 && tok.front() == '"' && tok.back() == '"') {
    auto inner = tok.substr(1, tok.size() - 2);
    if (inner.find('\\') == std::string_view::npos) {
      out = inner;
      return sj::SUCCESS;
    }
  }
  return v.get_string().get(out);
}

} // namespace

class envelope_parser::impl {
public:
  struct compiled {
    std::string pattern;
    /// The pointer's first key ("eventBody") and the rest ("/eventTime").
    std::string first;
    std::string rest;
    timestamp_format format;
  };

  impl(std::vector<timestamp_rule> rules, std::string id_key)
    : id_key_(std::move(id_key)) {
    for (auto& r : rules) {
      std::string ptr = r.pointer;
      if (ptr.empty() || ptr[0] != '/')
        ptr = "/" + ptr;
      auto slash = ptr.find('/', 1);
      compiled c;
      c.pattern = r.topic_pattern;
      c.first = ptr.substr(1, slash == std::string::npos ? std::string::npos
                                                         : slash - 1);
      c.rest = slash == std::string::npos ? "" : ptr.substr(slash);
      c.format = r.format;
      rules_.push_back(std::move(c));
    }
  }

  frame_kind parse(const char* data, size_t size, size_t capacity,
                   int64_t arrival_ms, envelope& out);

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

  static frame_kind malformed(envelope& out, std::string what,
                              sj::error_code err) {
    out.kind = frame_kind::malformed;
    out.error = std::move(what);
    if (err != sj::SUCCESS) {
      out.error += ": ";
      out.error += sj::error_message(err);
    }
    return out.kind;
  }

  od::parser parser_;
  std::vector<compiled> rules_;
  std::string id_key_;
  std::unordered_map<std::string_view, int> cache_;
  std::deque<std::string> cached_topics_; // what cache_'s keys view
};

frame_kind envelope_parser::impl::parse(const char* data, size_t size,
                                        size_t capacity, int64_t arrival_ms,
                                        envelope& out) {
  out.topic = {};
  out.id = {};
  out.error.clear();
  out.ts_ms = arrival_ms;
  out.ts_from_event = false;
  // Strict JSON first, for every frame. An event goes to sinks whole, so
  // all of it must be valid (a missing final brace, `tru` in a field nobody
  // reads, garbage after the document: On-Demand checks only what it
  // reads). And On-Demand must never see a broken document: looking fields
  // up out of order in one (`"a":","b":7:5`) breaks what it assumes of the
  // structure it walked (SIMDJSON_ASSUME in find_field_unordered_raw,
  // undefined behaviour without NDEBUG's assert; found by the fuzzer).
  if (auto f = check_json(data, size); f != json_fault::ok)
    return malformed(out, std::string{"not valid JSON ("} + to_string(f) + ")",
                     sj::SUCCESS);
  od::document doc;
  if (auto err = parser_.iterate(data, size, capacity).get(doc))
    return malformed(out, "not a JSON document", err);
  std::string_view sv;
  {
    od::value v;
    auto err = doc["topicName"].get(v);
    if (!err)
      err = string_of(v, out.topic);
    if (err)
      return malformed(out, "topicName: expected a string", err);
  }
  if (out.topic == "channel.metadata") {
    auto err = doc["eventBody"]["message"].get_string().get(sv);
    if (err == sj::SUCCESS && sv == "WebSocket Heartbeat")
      return out.kind = frame_kind::heartbeat;
    if (err == sj::SUCCESS && sv == "pong")
      return out.kind = frame_kind::pong;
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
  od::value body;
  od::json_type type;
  if (auto err = doc["eventBody"].get(body))
    return malformed(out, "eventBody: missing", err);
  if (auto err = body.type().get(type))
    return malformed(out, "eventBody: missing", err);
  if (type != od::json_type::object)
    return malformed(out, "eventBody: expected an object", sj::SUCCESS);
  if (const compiled* rule = rule_for(out.topic)) {
    // A pointer into eventBody starts from the value in hand: looking the
    // field up again would skip all of eventBody and come round to it.
    od::value v = body;
    sj::error_code err = sj::SUCCESS;
    if (rule->first != "eventBody")
      err = doc[rule->first].get(v);
    if (!err && !rule->rest.empty())
      err = v.at_pointer(rule->rest).get(v);
    if (!err) {
      int64_t ts = 0;
      if (rule->format == timestamp_format::epoch_ms) {
        err = v.get_int64().get(ts);
      } else if (!(err = v.get_string().get(sv))
                 && !iso8601_to_epoch_ms(sv, ts)) {
        err = sj::INCORRECT_TYPE;
      }
      if (!err) {
        out.ts_ms = ts;
        out.ts_from_event = true;
      }
    }
    // A missing or unreadable timestamp falls back to the arrival time; a
    // broken document does not.
    if (err && err != sj::NO_SUCH_FIELD && err != sj::INCORRECT_TYPE
        && err != sj::NUMBER_OUT_OF_RANGE && err != sj::INVALID_JSON_POINTER)
      return malformed(out, "eventBody", err);
  }
  od::value idv;
  auto err = doc["metadata"]["CorrelationId"].get(idv);
  if (!err)
    err = string_of(idv, out.id);
  if (err && err != sj::NO_SUCH_FIELD)
    return malformed(out, "metadata.CorrelationId: expected a string", err);
  if (err && !id_key_.empty()) {
    od::value v;
    if (!doc["eventBody"][id_key_].get(v)) {
      int64_t n;
      if (!string_of(v, sv))
        out.id = sv;
      else if (!v.get_int64().get(n))
        out.id = token_of(v);
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
                                  size_t capacity, int64_t arrival_ms,
                                  envelope& out) {
  return impl_->parse(data, size, capacity, arrival_ms, out);
}

frame_kind envelope_parser::parse(std::string_view frame, int64_t arrival_ms,
                                  envelope& out) {
  auto& padded = impl_->padded;
  padded.reserve(frame.size() + padding());
  padded.assign(frame);
  return impl_->parse(padded.data(), padded.size(), padded.capacity(),
                      arrival_ms, out);
}

size_t envelope_parser::padding() {
  return sj::SIMDJSON_PADDING;
}

} // namespace gcstream
