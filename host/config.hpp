#pragma once

// The gcstream program's configuration: one JSON file (README, "Config").
//
// Validation names every bad field by its path ("tenants[0].session.
// ping_interval_ms") and says what is expected; unknown keys are errors, so
// a typo never silently falls back to a default. Secrets never appear in the
// file: each comes from an environment variable or a file, and no message
// ever repeats one.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <caf/expected.hpp>

#include "actors/sinks/file_sink.hpp"
#include "actors/sinks/webhook_sink.hpp"
#include "host/runtime.hpp"

namespace gcstream {

/// The metrics listener and health webhook.
struct metrics_config {
  /// "127.0.0.1:9464" (the default); "off" or empty: no listener.
  std::string listen = "127.0.0.1:9464";
  /// Health snapshots go here (empty: none).
  std::string webhook_url;
  int64_t webhook_interval_ms = 60000;
  /// HMAC-SHA256 key for the webhook's signature header (empty: unsigned).
  std::string signing_key;
};

/// Everything the program needs to run.
struct program_config {
  runtime_settings runtime;
  std::vector<tenant_config> tenants;
  metrics_config metrics;
  /// Audit log path; "-" for stderr, empty for none.
  std::string audit_log;
  uint64_t audit_rotate_bytes = 100 << 20;
};

/// Reads an environment variable; nullopt when unset.
using env_lookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment.
env_lookup process_env();

/// Parses and validates a configuration text. Relative paths (sinks, secret
/// files, the audit log) are taken relative to `base_dir`. The error lists
/// every problem found, one per line.
caf::expected<program_config> parse_config(const std::string& text,
                                           const env_lookup& env,
                                           const std::string& base_dir = ".");

/// Reads and parses a configuration file (paths relative to its folder).
caf::expected<program_config> load_config(const std::string& path,
                                          const env_lookup& env);

/// The single-tenant quick start from the variables Genesys' own tools use:
/// GENESYSCLOUD_OAUTHCLIENT_ID, GENESYSCLOUD_OAUTHCLIENT_SECRET and
/// GENESYSCLOUD_REGION (an AWS-style region), with the topics given, events
/// to stdout.
caf::expected<program_config> config_from_env(const env_lookup& env,
                                              std::vector<std::string> topics);

/// Sink specs for the built-in sinks.
sink_spec file_sink_spec(std::string name, file_sink_settings cfg);
sink_spec null_sink_spec(std::string name);
sink_spec webhook_sink_spec(std::string name, webhook_sink_settings cfg);

} // namespace gcstream
