#include "runtime/message_pool.hpp"

#include <set>
#include <vector>

#include <boost/test/unit_test.hpp>

#include <websocketpp/message_buffer/message.hpp>

#include "messages/event.hpp"

using namespace gcstream;

namespace {

using message = websocketpp::message_buffer::message<detail::pooled_msg_manager>;
using manager = detail::pooled_msg_manager<message>;
using opcode = websocketpp::frame::opcode::value;
constexpr opcode text = websocketpp::frame::opcode::text;

// What the transport does with a message: the frame shares it.
frame_ref as_frame(const manager::message_ptr& m) {
  return frame_ref{std::shared_ptr<const std::string>{m, &m->get_raw_payload()}};
}

} // namespace

// (Under ThreadSanitizer the pool does not reuse: runtime/message_pool.hpp.)
BOOST_AUTO_TEST_SUITE(message_pool_tests,
                      *boost::unit_test::enable_if<GCSTREAM_POOL_REUSE != 0>())

BOOST_AUTO_TEST_CASE(a_released_message_is_handed_out_again_reset) {
  auto mgr = std::make_shared<manager>();
  auto a = mgr->get_message(text, 900);
  BOOST_CHECK_GE(a->get_raw_payload().capacity(), 900 + envelope_parser::padding());
  a->get_raw_payload().assign(900, 'x');
  a->set_header("hdr");
  a->set_prepared(true);
  a->set_fin(false);
  const message* first = a.get();
  const char* buffer = a->get_raw_payload().data();
  a.reset();
  auto b = mgr->get_message(websocketpp::frame::opcode::binary, 100);
  BOOST_CHECK(b.get() == first);                      // the same message
  BOOST_CHECK(b->get_raw_payload().data() == buffer); // and its buffer
  BOOST_CHECK(b->get_raw_payload().empty());
  BOOST_CHECK(b->get_header().empty());
  BOOST_CHECK(!b->get_prepared());
  BOOST_CHECK(b->get_fin());
  BOOST_CHECK(b->get_opcode() == websocketpp::frame::opcode::binary);
  BOOST_CHECK_EQUAL(mgr->reused(), 1u);
}

BOOST_AUTO_TEST_CASE(a_message_a_frame_still_holds_is_never_reused) {
  auto mgr = std::make_shared<manager>();
  std::vector<event> held;
  std::vector<const message*> by_frame;
  std::set<const message*> seen;
  for (int i = 0; i < 100; ++i) {
    auto m = mgr->get_message(text, 50);
    BOOST_REQUIRE(seen.insert(m.get()).second); // every one is new
    by_frame.push_back(m.get());
    m->get_raw_payload() = "frame " + std::to_string(i);
    m->get_raw_payload().reserve(64 + envelope_parser::padding());
    held.push_back(event{"t", "", 0, 0, false, as_frame(m)});
  }
  BOOST_CHECK_EQUAL(mgr->reused(), 0u);
  for (int i = 0; i < 100; ++i) // nothing was overwritten
    BOOST_CHECK_EQUAL(held[i].frame().str(), "frame " + std::to_string(i));
  // Released out of order (the odd ones): those, and only those, come back.
  for (size_t i = 1; i < held.size(); i += 2)
    held[i] = event{};
  std::set<const message*> released;
  for (size_t i = 1; i < held.size(); i += 2)
    released.insert(by_frame[i]);
  for (int i = 0; i < 50; ++i) {
    auto m = mgr->get_message(text, 50); // each dropped at once
    // Either new, or one whose frame was released: never a held one.
    BOOST_CHECK(seen.count(m.get()) == 0 || released.count(m.get()) == 1);
  }
  for (size_t i = 0; i < held.size(); i += 2)
    BOOST_CHECK_EQUAL(held[i].frame().str(), "frame " + std::to_string(i));
  BOOST_CHECK_GT(mgr->reused(), 0u);
}

BOOST_AUTO_TEST_CASE(the_pool_shrinks_after_a_burst_and_drops_big_buffers) {
  auto mgr = std::make_shared<manager>();
  {
    std::vector<manager::message_ptr> burst;
    for (int i = 0; i < 1000; ++i)
      burst.push_back(mgr->get_message(text, 10));
  }
  BOOST_CHECK_EQUAL(mgr->kept(), 1000u);
  // A quiet stream, one message in use at a time: every turn of the hand
  // that needs no new message lets half of the free ones go.
  for (int i = 0; i < 5000; ++i)
    mgr->get_message(text, 10);
  BOOST_CHECK_LE(mgr->kept(), 2 * detail::message_pool_limits::min_kept);
  BOOST_CHECK_GE(mgr->kept(), detail::message_pool_limits::min_kept);
  // A huge frame's buffer is not kept for the next one.
  const message* big = nullptr;
  {
    auto m = mgr->get_message(text, 1 << 20);
    big = m.get();
  }
  for (size_t i = 0; i < 2 * mgr->kept(); ++i) {
    auto m = mgr->get_message(text, 10);
    if (m.get() == big) {
      BOOST_CHECK_LE(m->get_raw_payload().capacity(),
                     detail::message_pool_limits::max_buffer);
      big = nullptr;
    }
  }
  BOOST_CHECK(big == nullptr); // it was handed out again, small
}

BOOST_AUTO_TEST_SUITE_END()
