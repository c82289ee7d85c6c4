#pragma once

// What may be printed of a capability. A channel's id (and so its
// connectUri) is a bearer capability: whoever holds it can connect to the
// channel and, by the one-socket rule, kick the client off. So it never
// appears in an error text, /healthz, a webhook or a metric; the audit log
// names a channel by a short hash of its id, which tells channels apart and
// cannot be turned back into the id.

#include <string>
#include <string_view>

namespace gcstream {

/// The first 12 hex digits of SHA-256(`s`).
std::string short_hash(std::string_view s);

/// How a channel is named in output: "ch:" and the short hash of its id
/// (empty for an empty id).
std::string channel_tag(std::string_view channel_id);

/// A URL as it may be printed: no query, and the path segment after
/// "/channels/" replaced by its channel_tag.
std::string redact_url(std::string_view url);

} // namespace gcstream
