#include "runtime/envelope.hpp"

#include "runtime/json_check.hpp"

#include <cstring>
#include <new>
#include <deque>
#include <optional>
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
    /// The pointer ("/eventBody/eventTime").
    std::string pointer;
  };

  impl(std::vector<timestamp_rule> rules, std::string id_key) {
    topic_ = paths_.add({"topicName"});
    body_ = paths_.add({"eventBody"});
    message_ = paths_.add({"eventBody", "message"});
    metadata_ = paths_.add({"metadata"});
    correlation_ = paths_.add({"metadata", "CorrelationId"});
    channel_ = paths_.add({"eventBody", "channelId"});
    result_ = paths_.add({"result"});
    if (!id_key.empty())
      id_key_ = paths_.add({"eventBody", id_key});
    for (auto& r : rules) {
      std::string ptr = r.pointer;
      if (ptr.empty() || ptr[0] != '/')
        ptr = "/" + ptr;
      rules_.push_back(compiled{r.topic_pattern, paths_.add_pointer(ptr), r.format, ptr});
    }
    spans_.resize(paths_.size());
    id_key_name_ = id_key;
  }

  frame_kind parse(const char* data, size_t size, int64_t arrival_ms, envelope& out);
  /// The same, without simdjson: for valid JSON that simdjson's DOM cannot
  /// hold (a number too big for it).
  frame_kind parse_captured(const char* data, size_t size, envelope& out);

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
  size_t channel_ = 0, result_ = 0;
  std::string channel_buf_, result_buf_;
  size_t id_key_ = json_paths::max; // none
  std::string id_key_name_;
  static constexpr size_t small_capacity = 4096;
  static constexpr size_t big_capacity = 64 * 1024;
  std::vector<compiled> rules_;
  std::string topic_buf_, id_buf_, tmp_buf_;
  std::unordered_map<std::string_view, int> cache_;
  std::deque<std::string> cached_topics_; // what cache_'s keys view
};

namespace {

// The kind of a frame that is no event, by its topic (and, for
// channel.metadata, eventBody.message: null when absent); none for an event.
std::optional<frame_kind> non_event(std::string_view topic,
                                    const std::string_view* message) {
  if (topic == "channel.metadata") {
    if (message && *message == "WebSocket Heartbeat")
      return frame_kind::heartbeat;
    if (message && *message == "pong")
      return frame_kind::pong;
    return frame_kind::metadata;
  }
  if (!starts_with(topic, "v2.system."))
    return std::nullopt;
  if (topic == "v2.system.socket_closing")
    return frame_kind::socket_closing;
  if (starts_with(topic, "v2.system.no_longer_subscribed"))
    return frame_kind::no_longer_subscribed;
  if (starts_with(topic, "v2.system.token_revoked"))
    return frame_kind::token_revoked;
  return frame_kind::system;
}

// The bytes of `text` (a string simdjson read out of the frame) where they
// lie in the frame, so that an event can view them: at `hint` (where a
// frame as the service writes it has them), else wherever the same bytes
// are; if nowhere (the frame escaped them), a copy in `buf`.
std::string_view in_frame(std::string_view text, const char* data, size_t size,
                          size_t hint, std::string& buf) {
  if (text.empty())
    return {data, 0};
  if (hint <= size && text.size() <= size - hint
      && std::memcmp(data + hint, text.data(), text.size()) == 0)
    return {data + hint, text.size()};
  if (auto at = ::memmem(data, size, text.data(), text.size()))
    return {static_cast<const char*>(at), text.size()};
  buf.assign(text);
  return buf;
}

} // namespace

// simdjson's DOM parser validates the whole frame (structure, literals,
// numbers, escapes, UTF-8: an event goes to the sinks whole, so all of it
// must be valid, also the parts nobody reads) with SIMD, faster than a
// scalar pass that validates alone (bench_envelope_parse); the few fields
// are read from its tape, and topic and id are then found in the frame's
// own bytes. A frame it refuses is classified by check_json (what is wrong
// with it), and valid JSON it cannot hold (a number beyond 64 bits) goes
// the scalar way (parse_captured).
frame_kind envelope_parser::impl::parse(const char* data, size_t size,
                                        int64_t arrival_ms, envelope& out) {
  out.topic = {};
  out.id = {};
  out.channel = {};
  out.result = {};
  out.error.clear();
  out.ts_ms = arrival_ms;
  out.ts_from_event = false;
  // One DOM parser per thread, not per tenant: nothing of it is kept past
  // this call (topic and id are views into the frame or copies), and its
  // buffers (about 14 bytes per byte of the largest frame so far) would
  // otherwise be paid by every tenant. Nested deeper than check_json allows
  // is refused alike. A rare big frame does not pin its buffers: back to
  // small for the next ordinary one.
  thread_local sj::dom::parser dom;
  if ((dom.capacity() == 0 || (dom.capacity() > big_capacity && size <= small_capacity))
      && dom.allocate(small_capacity, 256) != sj::SUCCESS)
    return malformed(out, "out of memory");
  sj::dom::element root;
  if (auto err = dom.parse(data, size, false).get(root)) {
    if (err == sj::NUMBER_ERROR) // (it checks the frame itself)
      return parse_captured(data, size, out);
    if (auto f = check_json(data, size); f != json_fault::ok)
      return malformed(out, std::string{"not valid JSON ("} + to_string(f) + ")");
    if (err == sj::UTF8_ERROR)
      return malformed(out, "not valid JSON: the input is not valid UTF-8");
    return malformed(out, std::string{"not valid JSON: "} + sj::error_message(err));
  }
  sj::dom::object doc;
  std::string_view sv;
  if (root.get(doc))
    return malformed(out, "topicName: expected a string");
  if (doc["topicName"].get(sv)) {
    // The service's answer rather than a notification: {"result": ...}.
    sj::dom::element r;
    int64_t n;
    if (doc["topicName"].error() == sj::NO_SUCH_FIELD && !doc["result"].get(r)) {
      if (!r.get(sv)) {
        out.result = in_frame(sv, data, size, 11, result_buf_); // {"result":"
        return out.kind = frame_kind::reply;
      }
      if (!r.get(n)) {
        result_buf_ = std::to_string(n);
        out.result = result_buf_;
        return out.kind = frame_kind::reply;
      }
    }
    return malformed(out, "topicName: expected a string");
  }
  out.topic = in_frame(sv, data, size, 14, topic_buf_); // {"topicName":"
  bool has_message = out.topic == "channel.metadata"
                     && !doc["eventBody"]["message"].get(sv);
  if (auto kind = non_event(out.topic, has_message ? &sv : nullptr)) {
    if (*kind >= frame_kind::socket_closing && !doc["eventBody"]["channelId"].get(sv))
      out.channel = in_frame(sv, data, size, size, channel_buf_);
    return out.kind = *kind;
  }
  // An event: eventBody must be an object.
  sj::dom::element body;
  if (doc["eventBody"].get(body))
    return malformed(out, "eventBody: missing");
  if (!body.is_object())
    return malformed(out, "eventBody: expected an object");
  if (const compiled* rule = rule_for(out.topic)) {
    // A missing or unreadable timestamp falls back to the arrival time.
    sj::dom::element v;
    int64_t ts = 0;
    bool ok = false;
    if (!root.at_pointer(rule->pointer).get(v)) {
      if (rule->format == timestamp_format::epoch_ms)
        ok = !v.get(ts);
      else
        ok = !v.get(sv) && iso8601_to_epoch_ms(sv, ts);
    }
    if (ok) {
      out.ts_ms = ts;
      out.ts_from_event = true;
    }
  }
  sj::dom::element meta;
  if (!doc["metadata"].get(meta)) {
    if (!meta.is_object())
      return malformed(out,
                       "metadata.CorrelationId: expected a string (metadata is not an object)");
    sj::dom::element c;
    if (!meta["CorrelationId"].get(c)) {
      if (c.get(sv))
        return malformed(out, "metadata.CorrelationId: expected a string");
      // ..."CorrelationId":"<id>"}} is how the service ends a frame.
      out.id = in_frame(sv, data, size, size >= 3 + sv.size() ? size - 3 - sv.size() : 0,
                        id_buf_);
      return out.kind = frame_kind::event;
    }
  }
  if (!id_key_name_.empty()) {
    sj::dom::element v;
    int64_t n;
    if (!body[id_key_name_].get(v)) {
      if (!v.get(sv)) {
        out.id = in_frame(sv, data, size, size, id_buf_);
      } else if (!v.get(n)) {
        char digits[24];
        auto r = std::to_chars(digits, digits + sizeof(digits), n);
        out.id = in_frame({digits, static_cast<size_t>(r.ptr - digits)}, data, size,
                          size, id_buf_);
      }
    }
  }
  return out.kind = frame_kind::event;
}

// One pass over the frame checks that it is one complete, valid JSON text
// (runtime/json_check.hpp) and records where the few fields read here are;
// simdjson checks the UTF-8 of the whole frame. The fields are then read
// from the frame's bytes in place.
frame_kind envelope_parser::impl::parse_captured(const char* data, size_t size,
                                                 envelope& out) {
  // (`out` was reset by parse.)
  if (auto f = check_json(data, size, paths_, spans_.data()); f != json_fault::ok)
    return malformed(out, std::string{"not valid JSON ("} + to_string(f) + ")");
  if (!sj::validate_utf8(data, size))
    return malformed(out, "not valid JSON: the input is not valid UTF-8");
  // (A root that is not an object has none of these fields.)
  std::string_view sv;
  if (!spans_[topic_].found()) {
    auto& r = spans_[result_];
    if (r.found() && r.kind() == '"' && string_of(r, result_buf_, out.result))
      return out.kind = frame_kind::reply;
    if (r.found() && (r.kind() == '-' || (r.kind() >= '0' && r.kind() <= '9'))) {
      out.result = r.text();
      return out.kind = frame_kind::reply;
    }
  }
  if (!spans_[topic_].found() || !string_of(spans_[topic_], topic_buf_, out.topic))
    return malformed(out, "topicName: expected a string");
  auto& m = spans_[message_];
  bool has_message = out.topic == "channel.metadata" && m.found()
                     && string_of(m, tmp_buf_, sv);
  if (auto kind = non_event(out.topic, has_message ? &sv : nullptr)) {
    auto& c = spans_[channel_];
    if (*kind >= frame_kind::socket_closing && c.found() && c.kind() == '"')
      string_of(c, channel_buf_, out.channel);
    return out.kind = *kind;
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
