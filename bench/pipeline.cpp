// The event path in one process, no sockets (issue 5's first target: under
// 1 us of CPU per event), on conversation detail events of about 860 bytes,
// 5% of them sent twice and every 16th pair swapped (like the emulator's
// duplicate and out_of_order faults):
//
//   hot_path   one thread, no actors: envelope parse, dedupe window, reorder
//              buffer, sink outbox with immediate acks. The floor.
//   actors     the real hand-off: a producer thread (standing in for the
//              Asio thread) parses frames in batches of 64 and sends them to
//              an orderer actor with a null sink, waiting for each ack with
//              at most 16 batches in flight; ends with a drain. CPU of the
//              whole process (every CAF worker included) per event.
//
// Medians of RUNS runs of EVENTS events each; WHICH (hot, actors or both)
// picks the parts to run, for profiling one of them alone.
// Usage: bench_pipeline [EVENTS=200000] [RUNS=7] [WHICH=both]

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/orderer_actor.hpp"
#include "actors/sinks/null_sink.hpp"
#include "bench/bench_util.hpp"
#include "runtime/dedupe_window.hpp"
#include "runtime/envelope.hpp"
#include "runtime/reorder_buffer.hpp"
#include "runtime/sink_outbox.hpp"

using namespace gcstream;
using bench::cpu_s;
using bench::median;

namespace {

int64_t steady_ms() {
  return cpu_s(CLOCK_MONOTONIC) * 1000;
}

// One frame of about 860 bytes; `seq` makes the id and the event time unique.
std::string frame_for(uint64_t seq, const std::string& padding_room) {
  char id[40];
  std::snprintf(id, sizeof id, "87d9e17c-0000-4000-a000-%012llx",
                static_cast<unsigned long long>(seq));
  std::string f;
  f.reserve(900 + padding_room.size());
  f += R"({"topicName":"v2.detail.events.conversation.6d2c5a1e-0000-0000-0000-000000000001.customer.start",)"
       R"("version":"2","eventBody":{"eventTime":)";
  f += std::to_string(1763800000000ULL + seq);
  f += R"(,"conversationId":"6d2c5a1e-0000-0000-0000-000000000001",)"
       R"("participantId":"1b4c1f2a-55aa-4c1e-9f1b-0a2b3c4d5e6f",)"
       R"("sessionId":"2c5d2f3b-66bb-4d2f-8a2c-1b3c4d5e6f70","mediaType":"VOICE",)"
       R"("provider":"Edge","direction":"INBOUND","ani":"tel:+13175550123",)"
       R"("dnis":"tel:+18005550100","addressFrom":"tel:+13175550123",)"
       R"("addressTo":"tel:+18005550100","queueId":"3d6e3a4c-77cc-4e3a-9b3d-2c4d5e6f7081",)"
       R"("divisionId":"4e7f4b5d-88dd-4f4b-8c4e-3d5e6f708192",)"
       R"("conversationExternalContactIds":["5f805c6e-99ee-4a5c-9d5f-4e6f708192a3"],)"
       R"("userId":"6a916d7f-aaff-4b6d-8e6a-5f708192a3b4","segmentType":"interact",)"
       R"("disconnectType":null,"wrapupCode":null,)"
       R"("protocolCallId":"7ba27e8a-bb00-4c7e-9f7b-608192a3b4c5","emulatorSeq":)";
  f += std::to_string(seq);
  f += R"(},"metadata":{"CorrelationId":")";
  f += id;
  f += R"("}})";
  return f;
}

// The frames of one run, as a socket would deliver them: duplicates and
// swapped pairs included, each in its own buffer with room for the parser's
// padding. The buffers are held the way the client's transport holds them:
// its message pool (runtime/message_pool.hpp) owns every message, and an
// event shares it (one reference count), so no frame is allocated or freed
// per event on the measured path. The pool here is this vector, released
// after the measurement. Returns the number of distinct events.
using frame_pool = std::vector<std::shared_ptr<const std::string>>;

size_t make_frames(size_t n, frame_pool& out) {
  std::string room(envelope_parser::padding(), ' ');
  std::vector<std::string> text;
  text.reserve(n + n / 20 + 1);
  for (uint64_t seq = 1; seq <= n; ++seq) {
    text.push_back(frame_for(seq, room));
    if (seq % 20 == 0)
      text.push_back(text.back()); // a duplicate (no reallocation: reserved)
    if (seq % 16 == 0 && text.size() >= 2)
      std::swap(text[text.size() - 1], text[text.size() - 2]);
  }
  out.clear();
  out.reserve(text.size());
  for (auto& f : text) {
    f.reserve(f.size() + room.size()); // a copied string lost its room
    out.push_back(std::make_shared<const std::string>(std::move(f)));
  }
  return n;
}

// -- hot path, one thread ---------------------------------------------------

double run_hot_path(size_t n, size_t& delivered) {
  frame_pool frames;
  make_frames(n, frames);
  envelope_parser parser;
  dedupe_window dedupe{100000, 600000};
  reorder_buffer reorder{{250, 1000, 100000}};
  sink_outbox outbox{"bench", {512, 100000}};
  std::vector<event> released;
  envelope env;
  delivered = 0;
  auto drain_outbox = [&](bool partial) {
    while (auto b = outbox.next(partial)) {
      delivered += b->events.size();
      outbox.ack(b->seq);
    }
  };
  double t0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
  int64_t now = steady_ms();
  size_t i = 0;
  for (auto& held : frames) {
    auto& f = *held;
    if (++i % 64 == 0)
      now = steady_ms(); // one clock read per socket batch, as in the client
    if (parser.parse(f.data(), f.size(), f.capacity(), now, env) != frame_kind::event)
      continue;
    if (dedupe.seen(env.id, now))
      continue;
    event e{std::move(env.topic), std::move(env.id), env.ts_ms, now, false,
            frame_ref{held}};
    if (!reorder.push(e, now)) {
      e.late = true;
      outbox.add(std::move(e));
    }
    if (i % 64 == 0) {
      released.clear();
      reorder.release(now, released);
      for (auto& r : released) // moved into the (last) sink, as the orderer does
        outbox.add(std::move(r));
      drain_outbox(false);
    }
  }
  released.clear();
  reorder.release_all(released);
  for (auto& r : released)
    outbox.add(std::move(r));
  drain_outbox(true);
  return (cpu_s(CLOCK_THREAD_CPUTIME_ID) - t0) * 1e6 / double(n);
}

// -- through the actors -----------------------------------------------------

double run_actors(caf::actor_system& sys, size_t n, uint64_t& delivered,
                  uint64_t& dropped, uint64_t& late, bool& ok, double& producer) {
  frame_pool frames;
  make_frames(n, frames);
  orderer_settings s;
  s.tenant = "bench";
  std::vector<sink_spec> sinks{sink_spec{"null", [](const sink_context& ctx) {
    return caf::actor_cast<sink_actor>(ctx.sys.spawn(null_sink));
  }}};
  auto keep = std::make_shared<orderer_keep>(s, std::move(sinks));
  auto orderer = sys.spawn(orderer_actor_impl, keep, audit_ref{});
  caf::scoped_actor self{sys};
  envelope_parser parser;
  envelope env;
  size_t in_flight = 0;
  ok = true;
  auto wait_one = [&] {
    self->receive([&](uint64_t) { --in_flight; },
                  [&](caf::error&) { ok = false; --in_flight; },
                  caf::after(std::chrono::seconds(30)) >> [&] {
                    ok = false;
                    in_flight = 0;
                  });
  };
  double t0 = cpu_s(CLOCK_PROCESS_CPUTIME_ID);
  double p0 = cpu_s(CLOCK_THREAD_CPUTIME_ID);
  uint64_t seq = 0;
  for (size_t at = 0; at < frames.size(); at += 64) {
    int64_t now = steady_ms();
    event_batch b;
    b.tenant = "bench";
    b.seq = ++seq;
    size_t end = std::min(frames.size(), at + 64);
    b.events.reserve(end - at);
    for (size_t i = at; i < end; ++i) {
      auto& f = *frames[i];
      if (parser.parse(f.data(), f.size(), f.capacity(), now, env) == frame_kind::event)
        b.events.push_back(event{std::move(env.topic), std::move(env.id), env.ts_ms,
                                 now, false, frame_ref{frames[i]}});
    }
    // An async send: the ack comes back as an ordinary message.
    self->send(orderer, ingest_atom::value, std::move(b));
    if (++in_flight >= 16)
      wait_one();
  }
  while (in_flight > 0)
    wait_one();
  self->request(orderer, std::chrono::seconds(30), drain_atom::value,
                caf::timespan{std::chrono::seconds(20)})
    .receive([&](bool drained) { ok = ok && drained; },
             [&](caf::error&) { ok = false; });
  double per_event = (cpu_s(CLOCK_PROCESS_CPUTIME_ID) - t0) * 1e6 / double(n);
  producer = (cpu_s(CLOCK_THREAD_CPUTIME_ID) - p0) * 1e6 / double(n);
  delivered = 0;
  dropped = 0;
  self->request(orderer, std::chrono::seconds(10), stats_atom::value)
    .receive(
      [&](const orderer_stats& st) {
        late = st.late;
        for (auto& sk : st.sinks) {
          delivered += sk.delivered;
          dropped += sk.dropped;
        }
      },
      [&](caf::error&) { ok = false; });
  self->send_exit(orderer, caf::exit_reason::user_shutdown);
  return per_event;
}

} // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 200000;
  int runs = argc > 2 ? std::atoi(argv[2]) : 7;
  std::string which = argc > 3 ? argv[3] : "both";
  bool want_hot = which == "both" || which == "hot";
  bool want_actors = which == "both" || which == "actors";
  if (n < 64 || runs < 1 || !(want_hot || want_actors)) {
    std::fprintf(stderr, "usage: bench_pipeline [EVENTS>=64] [RUNS>=1] [hot|actors|both]\n");
    return 2;
  }
  std::vector<double> hot, act, prod;
  for (int r = 0; want_hot && r < runs; ++r) {
    size_t delivered = 0;
    hot.push_back(run_hot_path(n, delivered));
    if (delivered != n) {
      std::fprintf(stderr, "pipeline hot_path: delivered %zu of %zu\n", delivered, n);
      return 1;
    }
  }
  bench::quiet_config cfg;
  caf::actor_system sys{cfg};
  for (int r = 0; want_actors && r < runs; ++r) {
    uint64_t delivered = 0;
    uint64_t dropped = 0;
    uint64_t late = 0;
    bool ok = false;
    double producer = 0;
    act.push_back(run_actors(sys, n, delivered, dropped, late, ok, producer));
    prod.push_back(producer);
    if (!ok || delivered != n) {
      std::fprintf(stderr, "pipeline actors: delivered %llu of %zu (dropped %llu, "
                           "late %llu, drained %s)\n",
                   static_cast<unsigned long long>(delivered), n,
                   static_cast<unsigned long long>(dropped),
                   static_cast<unsigned long long>(late), ok ? "yes" : "no");
      return 1;
    }
  }
  if (want_hot)
    std::printf("pipeline hot_path    median=%.3f us/event  min=%.3f  (one thread: parse, "
              "dedupe, reorder, outbox; %zu events x %d)\n",
              median(hot), *std::min_element(hot.begin(), hot.end()), n, runs);
  if (want_actors)
    std::printf("pipeline actors      median=%.3f us/event  min=%.3f  (process CPU: "
              "producer + orderer + null sink; target < 1 us)\n",
              median(act), *std::min_element(act.begin(), act.end()));
  if (want_actors)
    std::printf("  of which producer  median=%.3f us/event  (the producer thread: parse, "
                "batch, send, wait for acks)\n",
                median(prod));
  return 0;
}
