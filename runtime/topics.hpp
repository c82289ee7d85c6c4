#pragma once

// Topic names as the service takes them (PROTOCOL.md): checked before any
// channel is made, counted against a channel's 1,000, and combined.
//
// A topic is "v2." and dot-separated segments of letters, digits, '-' and
// '_'. A combined topic is a prefix, '?', and parts joined by '&'
// ("v2.users.<id>?presence&routingStatus", at most 200 characters); the
// service sends each part's events under the expanded name ("v2.users.<id>.
// presence"). Whether the service counts a combined topic as one or as its
// parts against the 1,000 limit is not documented, so gcstream counts the
// parts (topic_weight): a configuration gcstream accepts then fits whichever
// way the service counts.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace gcstream {

/// The longest combined topic the service takes.
constexpr size_t max_combined_topic_length = 200;

/// The most topics one channel holds (counted with topic_weight).
constexpr size_t max_topics_per_channel = 1000;

/// What is wrong with `topic`, in a sentence that names it; empty when it is
/// a well-formed topic (plain or combined).
std::string topic_problem(std::string_view topic);

/// What a topic counts for against a channel's limit: the number of its
/// parts when combined (the safe count), else 1.
size_t topic_weight(std::string_view topic);

/// The count of a whole list, each topic by its topic_weight.
size_t topics_weight(const std::vector<std::string>& topics);

/// Why one channel cannot take `n` topics (counted with topic_weight).
std::string too_many_topics_text(size_t n);

/// Spreads `topics` over channels of at most `per_channel` each (counted
/// with topic_weight), in order, filling each channel before the next: the
/// same list always gives the same channels. A topic weighing more than
/// `per_channel` gets a channel of its own (which the service refuses).
std::vector<std::vector<std::string>>
spread_topics(const std::vector<std::string>& topics,
              size_t per_channel = max_topics_per_channel);

/// A tenant's channels after its topics change to `topics` (combined
/// already), by difference from `current` (each channel's topics now): a
/// topic kept stays on its channel; a new one goes to the first channel with
/// room that still holds topics now, then to new channels at the end. A
/// channel left with none is empty in the result (it closes); one empty
/// now (closed) takes none.
std::vector<std::vector<std::string>>
reassign_topics(const std::vector<std::vector<std::string>>& current,
                const std::vector<std::string>& topics,
                size_t per_channel = max_topics_per_channel);

/// Channels of `lanes` that hold topics.
size_t channels_in_use(const std::vector<std::vector<std::string>>& lanes);

/// Why a tenant needing `need` channels (for `topics` topics) does not fit
/// its OAuth client's budget of `max` live channels, of which `taken` are
/// other tenants' (`others`: who, with how many; may be empty).
std::string channel_budget_text(size_t need, size_t topics, size_t taken,
                                const std::string& others, size_t max);

/// The channels a tenant subscribes `topics` on: combined first when
/// `combine` (combine_topics), then spread (spread_topics).
std::vector<std::vector<std::string>>
tenant_channels(const std::vector<std::string>& topics, bool combine);

/// The names the service sends a topic's events under: the topic itself, or
/// one name per part of a combined topic.
std::vector<std::string> expand_topic(std::string_view topic);

/// Problems of a whole list: each malformed topic, and each name that the
/// list asks for twice (after expanding combined topics). Empty when fine.
std::vector<std::string> topic_list_problems(const std::vector<std::string>& topics);

/// One entry of the service's list of topics
/// (GET /api/v2/notifications/availabletopics): a template such as
/// "v2.users.{id}.presence", and whether it needs a user context.
struct topic_family {
  std::string id;
  bool requires_current_user = false;
};

/// The families of the service's answer to GET availabletopics (its
/// `entities`: `id`, and `requiresCurrentUser`, read as false unless it is
/// true). Empty when the body lists none or is no such answer.
std::vector<topic_family> parse_topic_families(const std::string& body);

/// The query of GET availabletopics, with what gcstream reads (after the
/// API's base URL).
constexpr const char* available_topics_path =
  "/api/v2/notifications/availabletopics?expand=requiresPermissions,topicParameters";

/// What the service's list says against `topic` (each part of a combined
/// topic checked): no family matches it, or its family needs a user
/// context, which a client-credentials token does not have. Empty when fine.
std::string topic_family_problem(std::string_view topic,
                                 const std::vector<topic_family>& families);

/// Combines the "v2.users.<id>.<one segment>" topics that share a user into
/// "v2.users.<id>?a&b" (the form the service documents), each at most
/// `max_len` characters; every other topic is kept as it is, in order. The
/// expanded names of the result are those of `topics` (a name listed twice,
/// once).
std::vector<std::string> combine_topics(const std::vector<std::string>& topics,
                                        size_t max_len = max_combined_topic_length);

} // namespace gcstream
