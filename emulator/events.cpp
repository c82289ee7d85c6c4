#include "emulator/events.hpp"

#include <charconv>
#include <cstdio>

namespace gcstream::emulator {

namespace {

// Howard Hinnant's civil_from_days.
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int64_t>(yoe) + era * 400 + (m <= 2);
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// The id segment after `prefix`, up to the next dot.
std::string_view segment_after(std::string_view topic, std::string_view prefix) {
  auto rest = topic.substr(prefix.size());
  return rest.substr(0, rest.find('.'));
}

// Appenders: each event is built with plain appends, no printf and no
// temporary strings (the emulator must write far faster than the client
// reads: bench_emulator_throughput).
template <class Int>
void append_int(std::string& out, Int v) {
  char b[24];
  auto r = std::to_chars(b, b + sizeof(b), v);
  out.append(b, r.ptr);
}

// `v` in decimal with at least `width` digits, zero-padded.
void append_padded(std::string& out, unsigned v, int width) {
  char b[16];
  int n = 0;
  do {
    b[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n < width)
    b[n++] = '0';
  while (n > 0)
    out += b[--n];
}

// A deterministic UUID-shaped id derived from a seed, for bodies.
void append_uuid(std::string& out, uint64_t a, uint64_t b) {
  append_hex(out, a >> 32, 8);
  out += '-';
  append_hex(out, (a >> 16) & 0xffff, 4);
  out += '-';
  append_hex(out, a & 0xffff, 4);
  out += '-';
  append_hex(out, (b >> 48) & 0xffff, 4);
  out += '-';
  append_hex(out, b & 0xffffffffffffull, 12);
}

// `"name":"uuid"` with the separator before it.
void append_uuid_field(std::string& out, std::string_view head, uint64_t a,
                       uint64_t b) {
  out += head;
  append_uuid(out, a, b);
  out += '"';
}

void append_iso8601(std::string& out, int64_t epoch_ms);

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t hash_of(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s)
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return h;
}

void append_envelope_head(std::string& out, std::string_view topic) {
  out += R"({"topicName":")";
  out += topic;
  out += R"(","version":"2","eventBody":)";
}

void append_envelope_tail(std::string& out, std::string_view correlation_id) {
  out += R"(,"metadata":{"CorrelationId":")";
  out += correlation_id;
  out += "\"}}";
}

const char* const presences[] = {"Available", "Busy", "Away", "Break",
                                 "Meal", "Meeting", "Training"};
const char* const routing_states[] = {"IDLE", "INTERACTING", "NOT_RESPONDING",
                                      "OFF_QUEUE", "COMMUNICATING"};
const char* const detail_events[] = {"customer.start", "acd.start",
                                     "user.start", "user.end", "acd.end",
                                     "customer.end"};

void detail_body(std::string& out, std::string_view topic, uint64_t seq,
                 int64_t wall_ms) {
  const std::string_view prefix = "v2.detail.events.conversation.";
  auto conv = segment_after(topic, prefix);
  uint64_t h = hash_of(topic);
  const unsigned tail = unsigned(seq % 1000u);
  out += R"({"eventTime":)";
  append_int(out, wall_ms);
  out += R"(,"conversationId":")";
  out += conv;
  append_uuid_field(out, R"(","participantId":")", mix(h ^ 1), mix(seq));
  append_uuid_field(out, R"(,"sessionId":")", mix(h ^ 2), mix(seq + 1));
  out += R"(,"mediaType":"VOICE","provider":"Edge",)"
         R"("direction":"INBOUND","ani":"tel:+13175550)";
  append_padded(out, tail, 3);
  out += R"(","dnis":"tel:+18005550100","addressFrom":"tel:+13175550)";
  append_padded(out, tail, 3);
  out += R"(","addressTo":"tel:+18005550100")";
  append_uuid_field(out, R"(,"queueId":")", mix(h ^ 3), mix(h ^ 4));
  append_uuid_field(out, R"(,"divisionId":")", mix(h ^ 5), mix(h ^ 6));
  append_uuid_field(out, R"(,"conversationExternalContactIds":[")", mix(h ^ 7),
                    mix(h ^ 8));
  append_uuid_field(out, R"(],"userId":")", mix(h ^ 9), mix(h ^ 10));
  append_uuid_field(out,
                    R"(,"segmentType":"interact","disconnectType":null,)"
                    R"("wrapupCode":null,"protocolCallId":")",
                    mix(h ^ 11), mix(seq ^ h));
  out += R"(,"emulatorSeq":)";
  append_int(out, seq);
  out += '}';
}

void append_iso8601(std::string& out, int64_t epoch_ms) {
  int64_t days = epoch_ms >= 0 ? epoch_ms / 86400000
                               : (epoch_ms - 86399999) / 86400000;
  int64_t rem = epoch_ms - days * 86400000;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  if (y < 0 || y > 9999) { // outside ISO-8601's four digits: rare, exact
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%04lld", static_cast<long long>(y));
    out += buf;
  } else {
    append_padded(out, static_cast<unsigned>(y), 4);
  }
  out += '-';
  append_padded(out, m, 2);
  out += '-';
  append_padded(out, d, 2);
  out += 'T';
  append_padded(out, static_cast<unsigned>(rem / 3600000), 2);
  out += ':';
  append_padded(out, static_cast<unsigned>(rem / 60000 % 60), 2);
  out += ':';
  append_padded(out, static_cast<unsigned>(rem / 1000 % 60), 2);
  out += '.';
  append_padded(out, static_cast<unsigned>(rem % 1000), 3);
  out += 'Z';
}

// `"name":"<iso8601>"` with the separator before it.
void append_iso_field(std::string& out, std::string_view head,
                      int64_t wall_ms) {
  out += head;
  append_iso8601(out, wall_ms);
  out += '"';
}

} // namespace

void append_hex(std::string& out, uint64_t v, int digits) {
  static const char hex[] = "0123456789abcdef";
  char b[16];
  for (int i = digits - 1; i >= 0; --i, v >>= 4)
    b[i] = hex[v & 15];
  out.append(b, static_cast<size_t>(digits));
}

std::string format_iso8601(int64_t epoch_ms) {
  std::string out;
  append_iso8601(out, epoch_ms);
  return out;
}

bool is_observation_topic(std::string_view topic) {
  return starts_with(topic, "v2.analytics.")
         && ends_with(topic, ".observations");
}

std::string make_event_frame(std::string_view topic, uint64_t seq,
                             int64_t wall_ms, std::string_view correlation_id) {
  std::string out;
  out.reserve(1024);
  append_envelope_head(out, topic);
  if (starts_with(topic, "v2.detail.events.conversation.")) {
    detail_body(out, topic, seq, wall_ms);
  } else if (starts_with(topic, "v2.users.") && ends_with(topic, ".presence")) {
    auto user = segment_after(topic, "v2.users.");
    std::string_view which =
      presences[seq % (sizeof(presences) / sizeof(*presences))];
    out += R"({"id":")";
    out += user;
    append_uuid_field(out, R"(","source":"PURECLOUD","presenceDefinition":{"id":")",
                      mix(hash_of(which)), mix(hash_of(which) + 1));
    out += R"(,"systemPresence":")";
    out += which;
    append_iso_field(out, R"("},"message":"","modifiedDate":")", wall_ms);
    out += R"(,"emulatorSeq":)";
    append_int(out, seq);
    out += '}';
  } else if (starts_with(topic, "v2.users.")
             && ends_with(topic, ".routingStatus")) {
    auto user = segment_after(topic, "v2.users.");
    std::string_view which =
      routing_states[seq % (sizeof(routing_states) / sizeof(*routing_states))];
    out += R"({"id":")";
    out += user;
    out += R"(","routingStatus":{"userId":")";
    out += user;
    out += R"(","status":")";
    out += which;
    append_iso_field(out, R"(","startTime":")", wall_ms);
    out += R"(},"emulatorSeq":)";
    append_int(out, seq);
    out += '}';
  } else if (starts_with(topic, "v2.routing.queues.")
             && ends_with(topic, ".conversations")) {
    auto queue = segment_after(topic, "v2.routing.queues.");
    uint64_t h = hash_of(topic);
    append_uuid_field(out, R"({"id":")", mix(h ^ seq), mix(seq));
    append_uuid_field(out, R"(,"participants":[{"id":")", mix(h ^ 1),
                      mix(seq + 7));
    append_iso_field(out, R"(,"purpose":"customer","startTime":")", wall_ms);
    append_iso_field(out, R"(,"connectedTime":")", wall_ms);
    out += R"(,"queueId":")";
    out += queue;
    append_uuid_field(out, R"("},{"id":")", mix(h ^ 2), mix(seq + 9));
    append_iso_field(out, R"(,"purpose":"acd","startTime":")", wall_ms);
    out += R"(,"queueId":")";
    out += queue;
    out += R"("}],"emulatorSeq":)";
    append_int(out, seq);
    out += '}';
  } else if (is_observation_topic(topic)) {
    auto queue = segment_after(topic, "v2.analytics.queues.");
    out += R"({"group":{"queueId":")";
    out += queue;
    append_iso_field(out, R"(","mediaType":"voice"},"data":[{"interval":")",
                     wall_ms);
    out.pop_back();
    out += '/';
    append_iso8601(out, wall_ms);
    out += R"(","metrics":[{"metric":"oWaiting","stats":{"count":)";
    append_int(out, unsigned(seq % 7));
    out += R"(}},{"metric":"oInteracting","stats":{"count":)";
    append_int(out, unsigned(seq % 11));
    out += R"(}}]}],"emulatorSeq":)";
    append_int(out, seq);
    out += '}';
  } else {
    append_uuid_field(out, R"({"id":")", mix(hash_of(topic)), mix(seq));
    append_iso_field(out, R"(,"timestamp":")", wall_ms);
    out += R"(,"emulatorSeq":)";
    append_int(out, seq);
    out += '}';
  }
  append_envelope_tail(out, correlation_id);
  return out;
}

std::string make_system_frame(std::string_view topic,
                              std::string_view body_json,
                              std::string_view correlation_id) {
  std::string out;
  append_envelope_head(out, topic);
  out += body_json;
  append_envelope_tail(out, correlation_id);
  return out;
}

const std::string& heartbeat_frame() {
  static const std::string frame =
    R"({"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}})";
  return frame;
}

const std::string& pong_frame() {
  static const std::string frame =
    R"({"topicName":"channel.metadata","eventBody":{"message":"pong"}})";
  return frame;
}

} // namespace gcstream::emulator
