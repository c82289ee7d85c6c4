// gcstream-emulator: the Genesys Cloud Notification service emulator as a
// program. See the README's "Emulator" section for the control endpoints.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <pthread.h>
#include <string>

#include "emulator/server.hpp"

namespace {

const char* usage =
  "usage: gcstream-emulator [options]\n"
  "  --listen HOST:PORT           address to serve on (default 127.0.0.1:0)\n"
  "  --client ID:SECRET           an OAuth client (repeatable)\n"
  "  --event-rate N               events per second per topic (default 10)\n"
  "  --heartbeat-interval-ms N    server heartbeat interval (default 30000)\n"
  "  --token-ttl-s N              access token lifetime (default 86400)\n"
  "  --channel-ttl-s N            channel lifetime (default 86400)\n"
  "  --rate-limit-per-minute N    API requests per token per minute (300)\n"
  "  --forbid-topic PATTERN       topics no token may read ('*' wildcard)\n"
  "  --tls-cert FILE --tls-key FILE   serve https and wss\n"
  "  --help                       this text\n"
  "Prints 'listening on URL' once ready; serves until SIGINT or SIGTERM.\n";

[[noreturn]] void fail(const std::string& what) {
  std::cerr << "gcstream-emulator: " << what << "\n" << usage;
  std::exit(2);
}

unsigned long number(const std::string& flag, const char* text) {
  char* end = nullptr;
  errno = 0;
  auto v = std::strtoul(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0')
    fail(flag + ": expected a non-negative integer, got '" + text + "'");
  return v;
}

} // namespace

int main(int argc, char** argv) {
  using gcstream::emulator::config;
  config cfg;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage;
      return 0;
    }
    if (i + 1 >= argc)
      fail(arg + ": missing value or unknown option");
    const char* val = argv[++i];
    if (arg == "--listen") {
      std::string v = val;
      auto colon = v.rfind(':');
      if (colon == std::string::npos)
        fail("--listen: expected HOST:PORT");
      cfg.listen_host = v.substr(0, colon);
      auto port = number(arg, v.substr(colon + 1).c_str());
      if (port > 65535)
        fail("--listen: port out of range");
      cfg.port = static_cast<uint16_t>(port);
    } else if (arg == "--client") {
      std::string v = val;
      auto colon = v.find(':');
      if (colon == std::string::npos || colon == 0)
        fail("--client: expected ID:SECRET");
      cfg.clients[v.substr(0, colon)] = v.substr(colon + 1);
    } else if (arg == "--event-rate") {
      char* end = nullptr;
      cfg.event_rate = std::strtod(val, &end);
      if (end == val || *end != '\0' || cfg.event_rate < 0)
        fail("--event-rate: expected a non-negative number");
    } else if (arg == "--heartbeat-interval-ms") {
      cfg.heartbeat_interval_ms = static_cast<uint32_t>(number(arg, val));
    } else if (arg == "--token-ttl-s") {
      cfg.token_ttl_s = static_cast<uint32_t>(number(arg, val));
    } else if (arg == "--channel-ttl-s") {
      cfg.channel_ttl_s = static_cast<uint32_t>(number(arg, val));
    } else if (arg == "--rate-limit-per-minute") {
      cfg.rate_limit_per_minute = static_cast<uint32_t>(number(arg, val));
    } else if (arg == "--forbid-topic") {
      cfg.forbidden_topics.emplace_back(val);
    } else if (arg == "--tls-cert") {
      cfg.tls_cert = val;
    } else if (arg == "--tls-key") {
      cfg.tls_key = val;
    } else {
      fail("unknown option " + arg);
    }
  }
  // Block the signals in every thread; this one waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  try {
    gcstream::emulator::server srv{cfg};
    srv.start();
    std::cout << "listening on " << srv.base_url() << std::endl;
    int sig = 0;
    sigwait(&set, &sig);
    srv.stop();
  } catch (const std::exception& e) {
    std::cerr << "gcstream-emulator: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
