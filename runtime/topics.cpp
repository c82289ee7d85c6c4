#include "runtime/topics.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace gcstream {

std::vector<topic_family> parse_topic_families(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  std::vector<topic_family> out;
  if (!j.is_object() || !j.contains("entities") || !j["entities"].is_array())
    return out;
  for (auto& e : j["entities"])
    if (e.is_object() && e.contains("id") && e["id"].is_string()) {
      // (Anything but true is no user context: the answer is the service's.)
      auto user = e.find("requiresCurrentUser");
      out.push_back({e["id"].get<std::string>(),
                     user != e.end() && user->is_boolean() && user->get<bool>()});
    }
  return out;
}

namespace {

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
         || c == '-' || c == '_';
}

// What is wrong with dot-separated segments (`what` names them in the
// message); empty when fine.
std::string segments_problem(std::string_view s, std::string_view what) {
  if (s.empty())
    return std::string{what} + " is empty";
  size_t len = 0;
  for (char c : s) {
    if (c == '.') {
      if (len == 0)
        return std::string{what} + " has an empty segment ('..', or a dot at an end)";
      len = 0;
    } else if (c == '{' || c == '}') {
      return std::string{what}
             + " still has a {placeholder}: put the id of the user, queue or "
               "conversation there";
    } else if (!name_char(c)) {
      return std::string{what} + " has '" + std::string(1, c)
             + "': a topic is letters, digits, '-', '_' and dots";
    } else {
      ++len;
    }
  }
  if (len == 0)
    return std::string{what} + " has an empty segment ('..', or a dot at an end)";
  return {};
}

std::string in_quotes(std::string_view topic) {
  // A topic is configuration, not a secret; a long one is cut for the message.
  std::string t{topic.substr(0, 120)};
  if (topic.size() > 120)
    t += "...";
  return "'" + t + "'";
}

// The user of a "v2.users.<id>.<segment>" topic, and the segment; false for
// any other topic.
bool user_topic(std::string_view topic, std::string_view& user,
                std::string_view& part) {
  constexpr std::string_view head = "v2.users.";
  if (topic.substr(0, head.size()) != head || topic.find('?') != std::string_view::npos)
    return false;
  auto rest = topic.substr(head.size());
  auto dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0)
    return false;
  part = rest.substr(dot + 1);
  if (part.empty() || part.find('.') != std::string_view::npos)
    return false;
  user = topic.substr(0, head.size() + dot);
  return true;
}

} // namespace

std::string topic_problem(std::string_view topic) {
  auto q = topic.find('?');
  auto prefix = topic.substr(0, q);
  if (prefix.substr(0, 3) != "v2.")
    return "topic " + in_quotes(topic) + " does not start with 'v2.'";
  if (auto p = segments_problem(prefix, "its name"); !p.empty())
    return "topic " + in_quotes(topic) + ": " + p;
  if (q == std::string_view::npos) {
    if (topic.size() > 512)
      return "topic " + in_quotes(topic) + " is longer than 512 characters";
    return {};
  }
  if (topic.size() > max_combined_topic_length)
    return "combined topic " + in_quotes(topic) + " is "
           + std::to_string(topic.size()) + " characters: the service takes at most "
           + std::to_string(max_combined_topic_length);
  auto parts = topic.substr(q + 1);
  std::set<std::string_view> seen;
  size_t start = 0;
  while (true) {
    auto amp = parts.find('&', start);
    auto part = parts.substr(start, amp == std::string_view::npos ? amp : amp - start);
    if (part.empty())
      return "combined topic " + in_quotes(topic)
             + " has an empty part (expected prefix?part&part)";
    if (part.find('?') != std::string_view::npos)
      return "combined topic " + in_quotes(topic) + " has more than one '?'";
    if (auto p = segments_problem(part, "part '" + std::string{part} + "'"); !p.empty())
      return "combined topic " + in_quotes(topic) + ": " + p;
    if (!seen.insert(part).second)
      return "combined topic " + in_quotes(topic) + " names part '"
             + std::string{part} + "' twice";
    if (amp == std::string_view::npos)
      break;
    start = amp + 1;
  }
  return {};
}

size_t topic_weight(std::string_view topic) {
  auto q = topic.find('?');
  if (q == std::string_view::npos)
    return 1;
  size_t n = 1;
  for (auto c : topic.substr(q + 1))
    n += c == '&';
  return n;
}

size_t topics_weight(const std::vector<std::string>& topics) {
  size_t n = 0;
  for (auto& t : topics)
    n += topic_weight(t);
  return n;
}

std::string too_many_topics_text(size_t n) {
  return std::to_string(n) + " topics (a combined topic counted as its parts) on one "
         "channel: a channel holds at most " + std::to_string(max_topics_per_channel);
}

std::vector<std::vector<std::string>>
spread_topics(const std::vector<std::string>& topics, size_t per_channel) {
  std::vector<std::vector<std::string>> out;
  size_t used = 0;
  for (auto& t : topics) {
    auto w = topic_weight(t);
    if (out.empty() || used + w > per_channel) {
      out.emplace_back();
      used = 0;
    }
    out.back().push_back(t);
    used += w;
  }
  return out;
}

std::vector<std::vector<std::string>>
reassign_topics(const std::vector<std::vector<std::string>>& current,
                const std::vector<std::string>& topics, size_t per_channel) {
  std::set<std::string_view> wanted(topics.begin(), topics.end());
  std::vector<std::vector<std::string>> out(current.size());
  std::vector<size_t> used(current.size(), 0);
  std::set<std::string_view> placed;
  for (size_t i = 0; i < current.size(); ++i)
    for (auto& t : current[i])
      if (wanted.count(t) != 0 && placed.insert(t).second) {
        out[i].push_back(t);
        used[i] += topic_weight(t);
      }
  size_t first_new = out.size();
  for (auto& t : topics) {
    if (!placed.insert(t).second)
      continue;
    auto w = topic_weight(t);
    size_t i = 0;
    for (; i < out.size(); ++i) {
      bool open = i >= first_new || !current[i].empty();
      if (open && used[i] + w <= per_channel)
        break;
    }
    if (i == out.size()) {
      out.emplace_back();
      used.push_back(0);
    }
    out[i].push_back(t);
    used[i] += w;
  }
  return out;
}

size_t channels_in_use(const std::vector<std::vector<std::string>>& lanes) {
  size_t n = 0;
  for (auto& l : lanes)
    n += l.empty() ? 0 : 1;
  return n;
}

std::string channel_budget_text(size_t need, size_t topics, size_t taken,
                                const std::string& others, size_t max) {
  auto text = "needs " + std::to_string(need) + " channel" + (need == 1 ? "" : "s") + " ("
              + std::to_string(topics) + " topics, at most "
              + std::to_string(max_topics_per_channel) + " a channel), but its OAuth client has "
              + std::to_string(max) + " (max_live_channels)";
  if (taken > 0)
    text += ", of which " + std::to_string(taken) + " go to " + others;
  return text + ": fewer topics, another OAuth client, or a higher max_live_channels (the "
                "service allows 20 a client; a rollover waits for a free one)";
}

std::vector<std::vector<std::string>>
tenant_channels(const std::vector<std::string>& topics, bool combine) {
  return spread_topics(combine ? combine_topics(topics) : topics);
}

std::vector<std::string> expand_topic(std::string_view topic) {
  auto q = topic.find('?');
  if (q == std::string_view::npos)
    return {std::string{topic}};
  std::vector<std::string> out;
  auto prefix = topic.substr(0, q);
  auto parts = topic.substr(q + 1);
  size_t start = 0;
  while (start <= parts.size()) {
    auto amp = parts.find('&', start);
    auto end = amp == std::string_view::npos ? parts.size() : amp;
    std::string name{prefix};
    name += '.';
    name += parts.substr(start, end - start);
    out.push_back(std::move(name));
    start = end + 1;
  }
  return out;
}

namespace {

// Whether `name` fits `family`: the same segments, a "{...}" segment of the
// template standing for any one segment.
bool fits(std::string_view name, std::string_view family) {
  for (;;) {
    auto n_dot = name.find('.');
    auto f_dot = family.find('.');
    auto n = name.substr(0, n_dot);
    auto f = family.substr(0, f_dot);
    bool any = f.size() >= 2 && f.front() == '{' && f.back() == '}';
    if (n.empty() || (!any && n != f))
      return false;
    if (n_dot == std::string_view::npos || f_dot == std::string_view::npos)
      return n_dot == f_dot;
    name.remove_prefix(n_dot + 1);
    family.remove_prefix(f_dot + 1);
  }
}

} // namespace

std::string topic_family_problem(std::string_view topic,
                                 const std::vector<topic_family>& families) {
  for (auto& name : expand_topic(topic)) {
    auto f = std::find_if(families.begin(), families.end(),
                          [&](const topic_family& x) { return fits(name, x.id); });
    auto what = name == topic ? "topic " + in_quotes(topic)
                              : "topic " + in_quotes(name) + " (of " + in_quotes(topic) + ")";
    if (f == families.end())
      return what + " is of no topic family the service lists (a typo, or a "
                    "family this organization does not have)";
    if (f->requires_current_user)
      return what + " needs a user context (" + f->id
             + " requiresCurrentUser): a client-credentials token has no user";
  }
  return {};
}

std::vector<std::string> topic_list_problems(const std::vector<std::string>& topics) {
  std::vector<std::string> problems;
  std::map<std::string, std::string> first; // expanded name -> the topic asking
  for (auto& t : topics) {
    if (auto p = topic_problem(t); !p.empty()) {
      problems.push_back(std::move(p));
      continue;
    }
    for (auto& name : expand_topic(t)) {
      auto [it, fresh] = first.emplace(name, t);
      if (fresh)
        continue;
      if (it->second == t)
        problems.push_back("topic " + in_quotes(t) + " is listed twice");
      else
        problems.push_back("topic " + in_quotes(name) + " is asked for by both "
                           + in_quotes(it->second) + " and " + in_quotes(t));
    }
  }
  return problems;
}

std::vector<std::string> combine_topics(const std::vector<std::string>& topics,
                                        size_t max_len) {
  // Each user's parts, in the order the users first appear.
  std::map<std::string_view, size_t> slot_of;
  std::vector<std::pair<std::string_view, std::vector<std::string_view>>> users;
  std::vector<std::string> out;
  std::vector<std::pair<size_t, size_t>> order; // (kind: 0 topic, 1 user; index)
  for (size_t i = 0; i < topics.size(); ++i) {
    std::string_view user, part;
    if (!user_topic(topics[i], user, part)) {
      order.emplace_back(0, i);
      continue;
    }
    auto [it, fresh] = slot_of.emplace(user, users.size());
    if (fresh) {
      users.emplace_back(user, std::vector<std::string_view>{});
      order.emplace_back(1, it->second);
    }
    auto& parts = users[it->second].second;
    if (std::find(parts.begin(), parts.end(), part) == parts.end())
      parts.push_back(part);
  }
  for (auto [kind, i] : order) {
    if (kind == 0) {
      out.push_back(topics[i]);
      continue;
    }
    auto& [user, parts] = users[i];
    if (parts.size() == 1) {
      out.push_back(std::string{user} + "." + std::string{parts[0]});
      continue;
    }
    // As many parts per topic as fit in max_len; a part that fits with no
    // other stays a plain topic.
    std::string cur;
    size_t in_cur = 0;
    auto flush = [&] {
      if (in_cur == 1)
        cur = std::string{user} + "." + cur.substr(user.size() + 1);
      if (in_cur > 0)
        out.push_back(std::move(cur));
      cur.clear();
      in_cur = 0;
    };
    for (auto part : parts) {
      if (in_cur > 0 && cur.size() + 1 + part.size() > max_len)
        flush();
      if (in_cur == 0) {
        cur = std::string{user} + "?" + std::string{part};
      } else {
        cur += '&';
        cur += part;
      }
      ++in_cur;
    }
    flush();
  }
  return out;
}

} // namespace gcstream
