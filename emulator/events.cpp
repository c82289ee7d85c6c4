#include "emulator/events.hpp"

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

// A deterministic UUID-shaped id derived from a seed, for bodies.
std::string uuid_from(uint64_t a, uint64_t b) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff),
                static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>((b >> 48) & 0xffff),
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  return buf;
}

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
  char buf[2048];
  std::snprintf(
    buf, sizeof(buf),
    R"({"eventTime":%lld,"conversationId":"%.*s","participantId":"%s",)"
    R"("sessionId":"%s","mediaType":"VOICE","provider":"Edge",)"
    R"("direction":"INBOUND","ani":"tel:+13175550%03u","dnis":"tel:+18005550100",)"
    R"("addressFrom":"tel:+13175550%03u","addressTo":"tel:+18005550100",)"
    R"("queueId":"%s","divisionId":"%s",)"
    R"("conversationExternalContactIds":["%s"],)"
    R"("userId":"%s","segmentType":"interact","disconnectType":null,)"
    R"("wrapupCode":null,"protocolCallId":"%s","emulatorSeq":%llu})",
    static_cast<long long>(wall_ms), static_cast<int>(conv.size()), conv.data(),
    uuid_from(mix(h ^ 1), mix(seq)).c_str(),
    uuid_from(mix(h ^ 2), mix(seq + 1)).c_str(), unsigned(seq % 1000u) % 1000u,
    unsigned(seq % 1000u) % 1000u, uuid_from(mix(h ^ 3), mix(h ^ 4)).c_str(),
    uuid_from(mix(h ^ 5), mix(h ^ 6)).c_str(),
    uuid_from(mix(h ^ 7), mix(h ^ 8)).c_str(),
    uuid_from(mix(h ^ 9), mix(h ^ 10)).c_str(),
    uuid_from(mix(h ^ 11), mix(seq ^ h)).c_str(),
    static_cast<unsigned long long>(seq));
  out += buf;
}

} // namespace

std::string format_iso8601(int64_t epoch_ms) {
  int64_t days = epoch_ms >= 0 ? epoch_ms / 86400000
                               : (epoch_ms - 86399999) / 86400000;
  int64_t rem = epoch_ms - days * 86400000;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[96]; // room for any value the compiler can imagine
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
                static_cast<long long>(y), m, d,
                static_cast<unsigned>(rem / 3600000),
                static_cast<unsigned>(rem / 60000 % 60),
                static_cast<unsigned>(rem / 1000 % 60),
                static_cast<unsigned>(rem % 1000));
  return buf;
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
  char buf[512];
  const auto iso = format_iso8601(wall_ms);
  const auto seq_ull = static_cast<unsigned long long>(seq);
  if (starts_with(topic, "v2.detail.events.conversation.")) {
    detail_body(out, topic, seq, wall_ms);
  } else if (starts_with(topic, "v2.users.") && ends_with(topic, ".presence")) {
    auto user = segment_after(topic, "v2.users.");
    auto which = presences[seq % (sizeof(presences) / sizeof(*presences))];
    std::snprintf(
      buf, sizeof(buf),
      R"({"id":"%.*s","source":"PURECLOUD","presenceDefinition":{"id":"%s",)"
      R"("systemPresence":"%s"},"message":"","modifiedDate":"%s","emulatorSeq":%llu})",
      static_cast<int>(user.size()), user.data(),
      uuid_from(mix(hash_of(which)), mix(hash_of(which) + 1)).c_str(), which,
      iso.c_str(), seq_ull);
    out += buf;
  } else if (starts_with(topic, "v2.users.")
             && ends_with(topic, ".routingStatus")) {
    auto user = segment_after(topic, "v2.users.");
    auto which =
      routing_states[seq % (sizeof(routing_states) / sizeof(*routing_states))];
    std::snprintf(buf, sizeof(buf),
                  R"({"id":"%.*s","routingStatus":{"userId":"%.*s",)"
                  R"("status":"%s","startTime":"%s"},"emulatorSeq":%llu})",
                  static_cast<int>(user.size()), user.data(),
                  static_cast<int>(user.size()), user.data(), which,
                  iso.c_str(), seq_ull);
    out += buf;
  } else if (starts_with(topic, "v2.routing.queues.")
             && ends_with(topic, ".conversations")) {
    auto queue = segment_after(topic, "v2.routing.queues.");
    uint64_t h = hash_of(topic);
    std::snprintf(
      buf, sizeof(buf),
      R"({"id":"%s","participants":[{"id":"%s","purpose":"customer",)"
      R"("startTime":"%s","connectedTime":"%s","queueId":"%.*s"},)"
      R"({"id":"%s","purpose":"acd","startTime":"%s","queueId":"%.*s"}],)"
      R"("emulatorSeq":%llu})",
      uuid_from(mix(h ^ seq), mix(seq)).c_str(),
      uuid_from(mix(h ^ 1), mix(seq + 7)).c_str(), iso.c_str(), iso.c_str(),
      static_cast<int>(queue.size()), queue.data(),
      uuid_from(mix(h ^ 2), mix(seq + 9)).c_str(), iso.c_str(),
      static_cast<int>(queue.size()), queue.data(), seq_ull);
    out += buf;
  } else if (is_observation_topic(topic)) {
    auto queue = segment_after(topic, "v2.analytics.queues.");
    std::snprintf(buf, sizeof(buf),
                  R"({"group":{"queueId":"%.*s","mediaType":"voice"},)"
                  R"("data":[{"interval":"%s/%s","metrics":[)"
                  R"({"metric":"oWaiting","stats":{"count":%u}},)"
                  R"({"metric":"oInteracting","stats":{"count":%u}}]}],)"
                  R"("emulatorSeq":%llu})",
                  static_cast<int>(queue.size()), queue.data(), iso.c_str(),
                  iso.c_str(), unsigned(seq % 7), unsigned(seq % 11), seq_ull);
    out += buf;
  } else {
    std::snprintf(buf, sizeof(buf),
                  R"({"id":"%s","timestamp":"%s","emulatorSeq":%llu})",
                  uuid_from(mix(hash_of(topic)), mix(seq)).c_str(),
                  iso.c_str(), seq_ull);
    out += buf;
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
