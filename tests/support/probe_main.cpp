// gcstream-probe: the minimal client of the tests as a program, for
// `make demo` until the gcstream program exists. It logs in, creates a
// channel, subscribes, prints every event for a few seconds, and compares what
// arrived with the emulator's own accounting.

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/support/probe_client.hpp"

using namespace gcstream;
using namespace std::chrono;

namespace {

// The text between `"key":` and the next ',' or '}' (numbers), or inside
// quotes (strings).
std::string field(const std::string& s, const std::string& key) {
  auto k = s.find("\"" + key + "\":");
  if (k == std::string::npos)
    return {};
  auto b = k + key.size() + 3;
  if (b < s.size() && s[b] == '"')
    return s.substr(b + 1, s.find('"', b + 1) - b - 1);
  return s.substr(b, s.find_first_of(",}", b) - b);
}

// The sum of the channel's written_by_topic counts in the emulator's stats.
uint64_t written_for(const std::string& stats, const std::string& channel) {
  auto c = stats.find("\"" + channel + "\":");
  if (c == std::string::npos)
    return 0;
  auto w = stats.find("\"written_by_topic\":{", c);
  auto end = stats.find('}', w);
  uint64_t total = 0;
  for (auto p = stats.find("\":", w + 20); p < end; p = stats.find("\":", p + 2))
    total += std::stoull(stats.substr(p + 2));
  return total;
}

} // namespace

int main(int argc, char** argv) {
  std::string base, id, secret;
  std::vector<std::string> topics;
  int seconds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--base")
      base = v;
    else if (a == "--client") {
      id = v.substr(0, v.find(':'));
      secret = v.substr(v.find(':') + 1);
    } else if (a == "--topic")
      topics.push_back(v);
    else if (a == "--seconds")
      seconds = std::stoi(v);
  }
  if (base.empty() || id.empty() || topics.empty()) {
    std::cerr << "usage: gcstream-probe --base URL --client ID:SECRET --topic T "
                 "[--topic T ...] [--seconds N]\n";
    return 2;
  }
  try {
    auto token = probe::get_token(base, id, secret);
    std::cout << "probe: got an access token (not shown)\n";
    auto ch = probe::create_channel(base, token);
    std::cout << "probe: channel " << ch.id << "\n";
    auto sub = probe::subscribe(base, token, ch.id, topics, true);
    std::cout << "probe: subscribed " << topics.size() << " topics (HTTP "
              << sub.status << ")\n";
    probe::ws_probe ws;
    if (!ws.connect(ch.connect_uri)) {
      std::cerr << "probe: cannot connect: " << ws.error() << "\n";
      return 1;
    }
    std::cout << "probe: connected to " << ch.connect_uri << "\n";
    auto start = steady_clock::now();
    size_t shown = 0;
    auto show = [&] {
      auto frames = ws.frames();
      for (; shown < frames.size(); ++shown) {
        auto& f = frames[shown];
        auto t = duration<double>(steady_clock::now() - start).count();
        auto topic = field(f, "topicName");
        std::string what = topic == "channel.metadata"
                             ? field(f, "message")
                             : "#" + field(f, "emulatorSeq") + " "
                                 + field(f, "CorrelationId");
        std::printf("[%6.3fs] %-58s %s\n", t, topic.c_str(), what.c_str());
      }
      std::fflush(stdout);
    };
    auto deadline = start + std::chrono::seconds(seconds);
    while (steady_clock::now() < deadline) {
      ws.wait_until([&] { return ws.frame_count() > shown; },
                    duration_cast<milliseconds>(deadline - steady_clock::now()));
      show();
    }
    // Ask the emulator to end the socket after what it wrote has left, so
    // that its accounting and what arrived can be compared exactly.
    probe::inject(base, R"({"kind":"drop","channel":")" + ch.id + "\"}");
    ws.wait_until([&] { return ws.current() != probe::ws_probe::state::open; });
    show();
    std::set<std::string> ids;
    uint64_t events = 0, dups = 0;
    for (auto& f : ws.frames()) {
      auto cid = field(f, "CorrelationId");
      if (field(f, "emulatorSeq").empty())
        continue;
      ++events;
      if (!ids.insert(cid).second)
        ++dups;
    }
    auto stats = probe::http("GET", base + "/emulator/stats").body;
    auto written = written_for(stats, ch.id);
    auto delivered = events - dups;
    std::cout << "summary: written=" << written << " delivered=" << delivered
              << " lost=" << (written > delivered ? written - delivered : 0)
              << " duplicated=" << dups << "\n";
    return written == delivered && dups == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "probe: " << e.what() << "\n";
    return 1;
  }
}
