// The file sink: one JSON line per event, appends, skips a batch it already
// wrote (also after a restart), never leaves a torn line, rotates by size,
// creates the file with mode 0600.

#include "actors/sinks/file_sink.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <optional>

#include <sys/stat.h>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/deterministic_fixture.hpp"

using namespace gcstream;
namespace fs = std::filesystem;

namespace {

event_batch batch_of(uint64_t seq, int first, int n) {
  event_batch b{"acme", seq, {}};
  for (int i = first; i < first + n; ++i)
    b.events.push_back(event{"v2.users.u1.presence", "id-" + std::to_string(i),
                             1000 + i, 2000 + i, false,
                             frame_ref{R"({"topicName":"v2.users.u1.presence","eventBody":{"n":)"
                                       + std::to_string(i) + "}}"}});
  return b;
}

std::vector<nlohmann::json> lines_of(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in{p};
  for (std::string line; std::getline(in, line);)
    out.push_back(nlohmann::json::parse(line));
  return out;
}

struct file_sink_fixture : test::deterministic_fixture {
  fs::path dir;
  std::shared_ptr<file_sink_keep> keep = std::make_shared<file_sink_keep>();
  std::vector<uint64_t> acks;
  std::optional<caf::error> failure;

  file_sink_fixture() {
    char tmpl[] = "/tmp/gcstream-file-sink-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~file_sink_fixture() { fs::remove_all(dir); }

  void deliver(sink_actor sink, event_batch b) {
    auto client = sys.spawn([&, sink, b](caf::event_based_actor* self) {
      self->request(sink, caf::infinite, deliver_atom::value, b)
        .then([&](uint64_t seq) { acks.push_back(seq); },
              [&](caf::error& err) { failure = err; });
    });
    sched.run();
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(file_sink_tests, file_sink_fixture)

BOOST_AUTO_TEST_CASE(writes_one_line_per_event_with_the_frame_whole) {
  auto path = dir / "events.jsonl";
  auto sink = sys.spawn(file_sink, file_sink_settings{path.string()}, keep);
  deliver(sink, batch_of(1, 0, 3));
  deliver(sink, batch_of(2, 3, 2));
  BOOST_CHECK(acks == (std::vector<uint64_t>{1, 2}));
  auto lines = lines_of(path);
  BOOST_REQUIRE_EQUAL(lines.size(), 5u);
  BOOST_CHECK_EQUAL(lines[4]["tenant"], "acme");
  BOOST_CHECK_EQUAL(lines[4]["id"], "id-4");
  BOOST_CHECK_EQUAL(lines[4]["ts"], 1004);
  BOOST_CHECK_EQUAL(lines[4]["received"], 2004);
  BOOST_CHECK_EQUAL(lines[4]["late"], false);
  BOOST_CHECK_EQUAL(lines[4]["event"]["eventBody"]["n"], 4);
  struct stat sb;
  BOOST_REQUIRE_EQUAL(::stat(path.c_str(), &sb), 0);
  BOOST_CHECK_EQUAL(sb.st_mode & 0777, 0600u);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  sched.run();
}

BOOST_AUTO_TEST_CASE(a_batch_sent_again_is_acknowledged_and_not_written_twice) {
  auto path = dir / "events.jsonl";
  auto sink = sys.spawn(file_sink, file_sink_settings{path.string()}, keep);
  deliver(sink, batch_of(1, 0, 2));
  deliver(sink, batch_of(2, 2, 2));
  deliver(sink, batch_of(2, 2, 2)); // the orderer restarted and resent it
  BOOST_CHECK(acks == (std::vector<uint64_t>{1, 2, 2}));
  BOOST_CHECK_EQUAL(lines_of(path).size(), 4u);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  sched.run();
}

BOOST_AUTO_TEST_CASE(appends_to_what_is_there_and_rotates_by_size) {
  auto path = dir / "events.jsonl";
  {
    std::ofstream pre{path};
    pre << "{\"old\":true}\n";
  }
  file_sink_settings cfg{path.string(), fsync_policy::batch, 600, 2};
  auto sink = sys.spawn(file_sink, cfg, keep);
  for (uint64_t seq = 1; seq <= 6; ++seq)
    deliver(sink, batch_of(seq, int(seq) * 10, 2)); // about 300 bytes each
  BOOST_CHECK_EQUAL(acks.size(), 6u);
  BOOST_CHECK(fs::exists(dir / "events.jsonl.1"));
  BOOST_CHECK(fs::exists(dir / "events.jsonl.2"));
  BOOST_CHECK(!fs::exists(dir / "events.jsonl.3")); // keep = 2
  for (auto p : {path, dir / "events.jsonl.1", dir / "events.jsonl.2"})
    BOOST_CHECK_LE(fs::file_size(p), 600u);
  auto newest = lines_of(path);
  BOOST_REQUIRE(!newest.empty());
  BOOST_CHECK_EQUAL(newest.back()["id"], "id-61");
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  sched.run();
}

BOOST_AUTO_TEST_CASE(a_restarted_sink_does_not_write_a_batch_its_file_holds) {
  auto path = dir / "events.jsonl";
  auto sink = sys.spawn(file_sink, file_sink_settings{path.string()}, keep);
  deliver(sink, batch_of(1, 0, 2));
  deliver(sink, batch_of(2, 2, 2));
  // It dies (its acknowledgement of 2 lost on the way, say); the orderer
  // starts it again and resends 2.
  caf::anon_send_exit(sink, caf::exit_reason::kill);
  sched.run();
  auto again = sys.spawn(file_sink, file_sink_settings{path.string()}, keep);
  deliver(again, batch_of(2, 2, 2));
  deliver(again, batch_of(3, 4, 1));
  BOOST_CHECK(acks == (std::vector<uint64_t>{1, 2, 2, 3}));
  auto lines = lines_of(path);
  BOOST_REQUIRE_EQUAL(lines.size(), 5u);
  BOOST_CHECK_EQUAL(lines[4]["id"], "id-4");
  caf::anon_send_exit(again, caf::exit_reason::user_shutdown);
  sched.run();
}

BOOST_AUTO_TEST_CASE(a_torn_last_line_is_cut_back_at_open) {
  auto path = dir / "events.jsonl";
  {
    std::ofstream pre{path};
    pre << "{\"whole\":1}\n{\"torn\":tr"; // a process died mid-write
  }
  auto sink = sys.spawn(file_sink, file_sink_settings{path.string()}, keep);
  deliver(sink, batch_of(1, 0, 1));
  auto lines = lines_of(path); // parses every line: none is torn
  BOOST_REQUIRE_EQUAL(lines.size(), 2u);
  BOOST_CHECK_EQUAL(lines[0]["whole"], 1);
  BOOST_CHECK_EQUAL(lines[1]["id"], "id-0");
  BOOST_CHECK_EQUAL(keep->torn_bytes_cut, 10u); // {"torn":tr
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  sched.run();
}

BOOST_AUTO_TEST_CASE(a_file_that_cannot_be_opened_refuses_the_batch_with_a_clear_error) {
  auto sink = sys.spawn(file_sink,
                        file_sink_settings{(dir / "no" / "such" / "dir.jsonl").string()},
                        keep);
  deliver(sink, batch_of(1, 0, 1));
  BOOST_CHECK(acks.empty());
  BOOST_REQUIRE(failure);
  BOOST_CHECK_NE(caf::to_string(*failure).find("cannot open"), std::string::npos);
  // The folder appears: the batch offered again is written.
  fs::create_directories(dir / "no" / "such");
  failure.reset();
  deliver(sink, batch_of(1, 0, 1));
  BOOST_CHECK(acks == (std::vector<uint64_t>{1}));
  BOOST_CHECK_EQUAL(lines_of(dir / "no" / "such" / "dir.jsonl").size(), 1u);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  sched.run();
}

BOOST_AUTO_TEST_CASE(a_write_that_fails_leaves_no_partial_line) {
  // /dev/full takes nothing: every write fails with ENOSPC. (A file sink on
  // a full disk refuses the batch and the file keeps whole lines only.)
  auto sink = sys.spawn(file_sink, file_sink_settings{"/dev/full"}, keep);
  deliver(sink, batch_of(1, 0, 3));
  BOOST_CHECK(acks.empty());
  BOOST_REQUIRE(failure);
  BOOST_CHECK_NE(caf::to_string(*failure).find("cannot write"), std::string::npos);
  BOOST_CHECK_EQUAL(keep->last_written, 0u); // offered again, it is written
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
  sched.run();
}

BOOST_AUTO_TEST_SUITE_END()
