// Topic names: checked before any channel is made, counted the safe way,
// and combined within the service's 200 characters (runtime/topics.hpp).

#include "runtime/topics.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

using namespace gcstream;

namespace {

std::multiset<std::string> expanded(const std::vector<std::string>& topics) {
  std::multiset<std::string> out;
  for (auto& t : topics)
    for (auto& n : expand_topic(t))
      out.insert(n);
  return out;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_SUITE(topic_tests)

BOOST_AUTO_TEST_CASE(well_formed_topics_pass) {
  for (auto t : {"v2.users.6c4b1a6e-1d2f-4c3b-9a8e-1f2e3d4c5b6a.presence",
                 "v2.detail.events.conversation.abc.customer.start",
                 "v2.analytics.queues.q_1.observations",
                 "v2.users.abc?presence&routingStatus&station"})
    BOOST_CHECK_MESSAGE(topic_problem(t).empty(), t << ": " << topic_problem(t));
}

BOOST_AUTO_TEST_CASE(each_malformed_topic_gets_a_sentence_that_names_it) {
  struct bad {
    const char* topic;
    const char* says;
  };
  for (auto b : std::vector<bad>{
         {"users.abc.presence", "does not start with 'v2.'"},
         {"v2.users..presence", "empty segment"},
         {"v2.users.abc.", "empty segment"},
         {"v2.users.{id}.presence", "{placeholder}"},
         {"v2.users.abc.presence ", "has ' '"},
         {"v2.users.a/b.presence", "has '/'"},
         {"v2.users.abc?", "empty part"},
         {"v2.users.abc?presence&&station", "empty part"},
         {"v2.users.abc?presence?station", "more than one '?'"},
         {"v2.users.abc?presence&presence", "part 'presence' twice"},
         {"v2.users.abc?pres ence", "has ' '"},
         {"v2.users.abc?presence.", "empty segment"}}) {
    auto p = topic_problem(b.topic);
    BOOST_CHECK_MESSAGE(has(p, b.says), b.topic << " -> '" << p << "'");
    BOOST_CHECK_MESSAGE(has(p, std::string{b.topic}.substr(0, 10)), p);
  }
  std::string ok = "v2.users.abc?presence";
  for (int i = 10; ok.size() + 4 <= max_combined_topic_length; ++i)
    ok += "&p" + std::to_string(i);
  BOOST_CHECK_LE(ok.size(), max_combined_topic_length);
  BOOST_CHECK_MESSAGE(topic_problem(ok).empty(), topic_problem(ok));
  auto over = ok + "&x12345";
  BOOST_CHECK_GT(over.size(), max_combined_topic_length);
  BOOST_CHECK(has(topic_problem(over), "at most 200"));
}

BOOST_AUTO_TEST_CASE(a_combined_topic_counts_as_its_parts_and_expands_to_them) {
  BOOST_CHECK_EQUAL(topic_weight("v2.users.abc.presence"), 1u);
  BOOST_CHECK_EQUAL(topic_weight("v2.users.abc?presence&routingStatus&station"), 3u);
  auto e = expand_topic("v2.users.abc?presence&routingStatus");
  BOOST_REQUIRE_EQUAL(e.size(), 2u);
  BOOST_CHECK_EQUAL(e[0], "v2.users.abc.presence");
  BOOST_CHECK_EQUAL(e[1], "v2.users.abc.routingStatus");
  BOOST_CHECK_EQUAL(expand_topic("v2.users.abc.presence").at(0), "v2.users.abc.presence");
}

BOOST_AUTO_TEST_CASE(a_list_asking_for_a_name_twice_is_refused_with_both_names) {
  BOOST_CHECK(topic_list_problems({"v2.users.a.presence", "v2.users.b.presence"}).empty());
  auto twice = topic_list_problems({"v2.users.a.presence", "v2.users.a.presence"});
  BOOST_REQUIRE_EQUAL(twice.size(), 1u);
  BOOST_CHECK(has(twice[0], "listed twice"));
  auto overlap =
    topic_list_problems({"v2.users.a.presence", "v2.users.a?station&presence"});
  BOOST_REQUIRE_EQUAL(overlap.size(), 1u);
  BOOST_CHECK(has(overlap[0], "'v2.users.a.presence' is asked for by both"));
  auto malformed = topic_list_problems({"v2.users.a.presence", "v3.x", "v2..y"});
  BOOST_CHECK_EQUAL(malformed.size(), 2u);
}

BOOST_AUTO_TEST_CASE(combining_keeps_every_name_and_each_topic_within_200) {
  std::vector<std::string> in;
  const char* parts[] = {"presence", "routingStatus", "station", "conversationsummary",
                         "outofoffice", "geolocation", "activity",
                         "conversations", "workflows", "externalcontacts", "callforwarding",
                         "alertingtimeout", "routingskills", "routinglanguages"};
  for (int u = 0; u < 30; ++u)
    for (auto p : parts)
      in.push_back("v2.users.6c4b1a6e-1d2f-4c3b-9a8e-1f2e3d4c" + std::to_string(1000 + u)
                   + "." + p);
  in.push_back("v2.routing.queues.q1.conversations");
  in.push_back("v2.users.lonely.presence");
  auto out = combine_topics(in);
  BOOST_CHECK(expanded(out) == expanded(in));
  BOOST_CHECK_LT(out.size(), in.size() / 4); // 14 parts of ~50-char users
  size_t weight = 0;
  for (auto& t : out) {
    BOOST_CHECK_MESSAGE(topic_problem(t).empty(), topic_problem(t));
    BOOST_CHECK_LE(t.size(), max_combined_topic_length);
    weight += topic_weight(t);
  }
  BOOST_CHECK_EQUAL(weight, in.size()); // counted the safe way: no fewer
  // What cannot be combined stays as it was; a user with one topic too.
  BOOST_CHECK(std::find(out.begin(), out.end(), "v2.routing.queues.q1.conversations")
              != out.end());
  BOOST_CHECK(std::find(out.begin(), out.end(), "v2.users.lonely.presence") != out.end());
  // A tight limit splits a user's parts over several topics.
  auto tight = combine_topics({"v2.users.u.aaaa", "v2.users.u.bbbb", "v2.users.u.cccc"},
                              std::string{"v2.users.u?aaaa&bbbb"}.size());
  BOOST_REQUIRE_EQUAL(tight.size(), 2u);
  BOOST_CHECK_EQUAL(tight[0], "v2.users.u?aaaa&bbbb");
  BOOST_CHECK_EQUAL(tight[1], "v2.users.u.cccc");
  // A name given twice is combined once.
  auto twice = combine_topics({"v2.users.u.a", "v2.users.u.b", "v2.users.u.a"});
  BOOST_REQUIRE_EQUAL(twice.size(), 1u);
  BOOST_CHECK_EQUAL(twice[0], "v2.users.u?a&b");
}

BOOST_AUTO_TEST_CASE(topics_spread_over_channels_of_at_most_1000_in_order) {
  std::vector<std::string> in;
  for (int i = 0; i < 2500; ++i)
    in.push_back("v2.users.u" + std::to_string(i) + ".presence");
  auto ch = spread_topics(in);
  BOOST_REQUIRE_EQUAL(ch.size(), 3u);
  BOOST_CHECK_EQUAL(ch[0].size(), 1000u);
  BOOST_CHECK_EQUAL(ch[1].size(), 1000u);
  BOOST_CHECK_EQUAL(ch[2].size(), 500u);
  BOOST_CHECK_EQUAL(ch[1].front(), "v2.users.u1000.presence");
  BOOST_CHECK_EQUAL(ch[2].back(), "v2.users.u2499.presence");
  // Exactly a channel's worth is one channel; one more is two.
  in.resize(1000);
  BOOST_CHECK_EQUAL(spread_topics(in).size(), 1u);
  in.push_back("v2.users.extra.presence");
  BOOST_CHECK_EQUAL(spread_topics(in).size(), 2u);
  // A combined topic counts as its parts, and is never split.
  std::vector<std::string> combined;
  for (int i = 0; i < 400; ++i)
    combined.push_back("v2.users.u" + std::to_string(i) + "?presence&routingStatus&station");
  auto cc = spread_topics(combined);
  BOOST_REQUIRE_EQUAL(cc.size(), 2u);
  BOOST_CHECK_EQUAL(topics_weight(cc[0]), 999u); // 333 x 3: a 334th would make 1002
  BOOST_CHECK_EQUAL(topics_weight(cc[1]), 201u);
  // The same list gives the same channels (a restart finds its own again).
  BOOST_CHECK(spread_topics(combined) == cc);
  // A tenant's channels: combining first needs fewer.
  std::vector<std::string> users;
  for (int i = 0; i < 1200; ++i)
    for (auto part : {".presence", ".routingStatus", ".conversations"})
      users.push_back("v2.users.6c4b1a6e-1d2f-4c3b-9a8e-" + std::to_string(100000 + i) + part);
  auto plain = tenant_channels(users, false);
  auto joined = tenant_channels(users, true);
  BOOST_CHECK_EQUAL(plain.size(), 4u); // 3,600 topics
  BOOST_CHECK_EQUAL(joined.size(), 4u); // 1,200 x 3 parts: combining saves requests, not room
  size_t names = 0;
  for (auto& c : joined) {
    BOOST_CHECK_LE(topics_weight(c), max_topics_per_channel);
    names += topics_weight(c);
  }
  BOOST_CHECK_EQUAL(names, users.size());
  BOOST_CHECK(spread_topics({}).empty());
}

BOOST_AUTO_TEST_CASE(changed_topics_keep_their_channels_and_fill_the_gaps_first) {
  auto names = [](int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i < to; ++i)
      out.push_back("v2.users.u" + std::to_string(i) + ".presence");
    return out;
  };
  auto now = spread_topics(names(0, 1500)); // 1,000 + 500
  // 0..99 go, 1500..2199 come: the kept stay where they are, the new fill
  // the first channel's 100 free places, then the second's 500, then a
  // new channel takes the last 100.
  auto wanted = names(100, 2200);
  auto next = reassign_topics(now, wanted);
  BOOST_REQUIRE_EQUAL(next.size(), 3u);
  BOOST_CHECK_EQUAL(next[0].size(), 1000u);
  BOOST_CHECK_EQUAL(next[0].front(), "v2.users.u100.presence");
  BOOST_CHECK_EQUAL(next[0].back(), "v2.users.u1599.presence");
  BOOST_CHECK_EQUAL(next[1].size(), 1000u);
  BOOST_CHECK_EQUAL(next[1].front(), "v2.users.u1000.presence");
  BOOST_CHECK_EQUAL(next[2].size(), 100u);
  BOOST_CHECK_EQUAL(next[2].front(), "v2.users.u2100.presence");
  std::multiset<std::string> all;
  for (auto& c : next)
    all.insert(c.begin(), c.end());
  BOOST_CHECK(all == std::multiset<std::string>(wanted.begin(), wanted.end()));
  // Everything of the second channel goes: it is left empty (it closes),
  // and an empty channel takes nothing new.
  auto shrunk = reassign_topics(now, names(0, 900));
  BOOST_REQUIRE_EQUAL(shrunk.size(), 2u);
  BOOST_CHECK_EQUAL(shrunk[0].size(), 900u);
  BOOST_CHECK(shrunk[1].empty());
  BOOST_CHECK_EQUAL(channels_in_use(shrunk), 1u);
  auto regrown = reassign_topics(shrunk, names(0, 2000));
  BOOST_REQUIRE_EQUAL(regrown.size(), 3u);
  BOOST_CHECK_EQUAL(regrown[0].size(), 1000u);
  BOOST_CHECK(regrown[1].empty());
  BOOST_CHECK_EQUAL(regrown[2].size(), 1000u);
  // The same topics change nothing.
  BOOST_CHECK(reassign_topics(now, names(0, 1500)) == now);
}

BOOST_AUTO_TEST_CASE(the_services_list_refuses_unknown_families_and_user_topics) {
  const std::vector<topic_family> families = {
    {"v2.users.{id}.presence", false},
    {"v2.users.{id}.conversations", true},
    {"v2.detail.events.conversation.{id}.customer.start", false}};
  BOOST_CHECK(topic_family_problem("v2.users.abc.presence", families).empty());
  BOOST_CHECK(
    topic_family_problem("v2.detail.events.conversation.c1.customer.start", families).empty());
  auto unknown = topic_family_problem("v2.userz.abc.presence", families);
  BOOST_CHECK(has(unknown, "'v2.userz.abc.presence' is of no topic family"));
  // One segment more or less is no match; {id} is one segment, not several.
  BOOST_CHECK(!topic_family_problem("v2.users.abc.presence.x", families).empty());
  BOOST_CHECK(!topic_family_problem("v2.users.presence", families).empty());
  BOOST_CHECK(!topic_family_problem("v2.users.a.b.presence", families).empty());
  auto user = topic_family_problem("v2.users.abc.conversations", families);
  BOOST_CHECK(has(user, "needs a user context"));
  // Each part of a combined topic is checked, and named.
  auto part = topic_family_problem("v2.users.abc?presence&conversations", families);
  BOOST_CHECK(has(part, "'v2.users.abc.conversations' (of 'v2.users.abc?presence&conversations')"));
  BOOST_CHECK(topic_family_problem("v2.users.abc?presence", families).empty());
  BOOST_CHECK(!topic_family_problem("v2.users.abc.presence", {}).empty());
}

BOOST_AUTO_TEST_SUITE_END()
