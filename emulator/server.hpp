#pragma once

// The emulator on the network: one port (plain, or TLS when a certificate is
// given) that serves the login path, the API paths, the control endpoints
// under /emulator/ and the WebSockets under /channels/. One Asio thread runs
// it all; the model (model.hpp) holds the rules and the accounting.
//
//   server s{cfg};
//   s.start();                 // listens, prints nothing
//   s.base_url();              // "http://127.0.0.1:40123"
//   s.inject(R"({"kind":"drop"})");
//   s.stats_json();
//   s.stop();                  // also done by the destructor

#include <cstdint>
#include <memory>
#include <string>

#include "emulator/config.hpp"

namespace gcstream::emulator {

/// A running emulator. Not copyable; every method is thread-safe.
class server {
public:
  explicit server(config cfg);
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Listens and starts the Asio thread. Throws std::runtime_error when the
  /// address cannot be bound or the certificate cannot be loaded.
  void start();

  /// Closes every connection, stops listening and joins the thread.
  void stop();

  /// The bound port (after start()).
  uint16_t port() const;

  /// "http://127.0.0.1:PORT" or "https://..." with TLS.
  std::string base_url() const;

  /// The accounting, as the control endpoint returns it.
  std::string stats_json();

  /// Applies a fault (same JSON as POST /emulator/faults); returns an error
  /// text, empty on success.
  std::string inject(const std::string& fault_json);

  /// Changes settings at run time (same JSON as POST /emulator/config).
  std::string reconfigure(const std::string& json);

  class impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace gcstream::emulator
