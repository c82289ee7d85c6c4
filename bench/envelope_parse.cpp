// The envelope parser alone, on a conversation detail event of about 900
// bytes (the kind the emulator writes): CPU time per frame, median of 20 runs of
// 50,000 frames. ARCHITECTURE.md's reference: simdjson On-Demand envelope
// 0.41 us here.

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "runtime/envelope.hpp"

using namespace gcstream;

namespace {

double thread_cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

} // namespace

int main() {
  std::string frame =
    R"({"topicName":"v2.detail.events.conversation.6d2c5a1e-0000-0000-0000-000000000001.customer.start",)"
    R"("version":"2","eventBody":{"eventTime":1763800000123,"conversationId":)"
    R"("6d2c5a1e-0000-0000-0000-000000000001","participantId":"1b4c1f2a-55aa-4c1e-9f1b-0a2b3c4d5e6f",)"
    R"("sessionId":"2c5d2f3b-66bb-4d2f-8a2c-1b3c4d5e6f70","mediaType":"VOICE","provider":"Edge",)"
    R"("direction":"INBOUND","ani":"tel:+13175550123","dnis":"tel:+18005550100",)"
    R"("addressFrom":"tel:+13175550123","addressTo":"tel:+18005550100",)"
    R"("queueId":"3d6e3a4c-77cc-4e3a-9b3d-2c4d5e6f7081","divisionId":"4e7f4b5d-88dd-4f4b-8c4e-3d5e6f708192",)"
    R"("conversationExternalContactIds":["5f805c6e-99ee-4a5c-9d5f-4e6f708192a3"],)"
    R"("userId":"6a916d7f-aaff-4b6d-8e6a-5f708192a3b4","segmentType":"interact",)"
    R"("disconnectType":null,"wrapupCode":null,"protocolCallId":"7ba27e8a-bb00-4c7e-9f7b-608192a3b4c5",)"
    R"("emulatorSeq":12345},"metadata":{"CorrelationId":"87d9e17c-0000-4000-a000-00000000002d"}})";
  std::string padded;
  padded.reserve(frame.size() + envelope_parser::padding());
  padded.assign(frame);
  envelope_parser parser;
  envelope env;
  const int n = 50000;
  std::vector<double> per_frame_us;
  for (int run = 0; run < 20; ++run) {
    double t0 = thread_cpu_s();
    for (int i = 0; i < n; ++i)
      parser.parse(padded.data(), padded.size(), padded.capacity(), i, env);
    per_frame_us.push_back((thread_cpu_s() - t0) * 1e6 / n);
    if (env.kind != frame_kind::event || env.ts_ms != 1763800000123) {
      std::fprintf(stderr, "envelope_parse: wrong result\n");
      return 1;
    }
  }
  std::sort(per_frame_us.begin(), per_frame_us.end());
  std::printf("envelope_parse       median=%.3f us/frame  min=%.3f  frame=%zu bytes  "
              "(reference: 0.41 us)\n",
              per_frame_us[per_frame_us.size() / 2], per_frame_us.front(),
              frame.size());
  return 0;
}
