// Latest-wins across processes: the gate's worker lives in another process
// (`actorkit_remote_node`, tests/support/remote_node.cpp), whose process is
// killed while requests are at it. Real scheduler and real sockets on
// 127.0.0.1, under a watchdog; the test waits for events, never by sleeping.
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/actors/latest_wins.hpp>

#include "fixtures/remote.hpp"

using namespace actorkit;
using namespace actorkit::test;
using namespace std::chrono_literals;

namespace {

struct latest_wins_remote_fixture : remote_fixture {
  caf::scoped_actor self{sys};

  // A worker in the node's process that parks each (ask_atom, x) without an
  // answer and tells this test's actor (put_atom, x) when it got it.
  caf::actor parking_worker(uint16_t port) {
    caf::actor worker;
    self->request(connect(port), 30s, run_atom_v, std::string{"park"},
                  caf::actor_cast<caf::actor>(self))
        .receive([&](caf::actor& w) { worker = std::move(w); },
                 [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    return worker;
  }

  // Waits until the remote worker has `x`.
  void arrived(int64_t x) {
    self->receive([&](put_atom, int64_t y) { BOOST_TEST(y == x); },
                  caf::after(30s) >>
                      [&] { BOOST_FAIL("the worker never got a request"); });
  }

  latest_wins_stats stats(const latest_wins_actor<int64_t>& gate) {
    latest_wins_stats result;
    self->request(gate, 30s, stats_atom_v)
        .receive([&](latest_wins_stats& s) { result = s; },
                 [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    return result;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(latest_wins_remote_suite, latest_wins_remote_fixture)

BOOST_AUTO_TEST_CASE(requests_at_a_worker_whose_process_is_killed_fail_at_once) {
  node_process node{"workers"};
  latest_wins_config c;
  c.worker = parking_worker(node.port());
  BOOST_REQUIRE(c.worker);
  BOOST_TEST((c.worker.node() != sys.node()));
  // No worker timeout: only the gate's monitor can end these requests.
  c.worker_timeout = no_limit;
  auto g = spawn_latest_wins<int64_t>(sys, c);
  BOOST_REQUIRE(g);
  auto gate = *g;
  to_stop.push_back(caf::actor_cast<caf::actor>(gate));
  auto subscribed =
      self->request(gate, 30s, subscribe_atom_v, caf::actor_cast<caf::actor>(self));
  subscribed.receive([] {}, [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  // Key "a" gets two versions: the first is superseded at once, while its
  // request stays at the worker; key "b" has one.
  auto a1 = self->request(gate, caf::infinite, submit_atom_v, std::string{"a"},
                          caf::make_message(ask_atom_v, int64_t{1}));
  arrived(1);
  auto a2 = self->request(gate, caf::infinite, submit_atom_v, std::string{"a"},
                          caf::make_message(ask_atom_v, int64_t{2}));
  a1.receive([](int64_t) { BOOST_FAIL("a stale version completed"); },
             [](caf::error& err) { BOOST_TEST(err == error::superseded); });
  arrived(2);
  auto b1 = self->request(gate, caf::infinite, submit_atom_v, std::string{"b"},
                          caf::make_message(ask_atom_v, int64_t{3}));
  arrived(3);
  BOOST_TEST(stats(gate).in_flight == 3u);
  // CAF never answers requests that reached a process that is gone; the
  // gate monitors its worker and answers them with the worker's exit reason.
  node.kill();
  for (auto* pending : {&a2, &b1})
    pending->receive([](int64_t) { BOOST_FAIL("a parked request was answered"); },
                     [](caf::error& err) {
                       BOOST_TEST(err == caf::exit_reason::remote_link_unreachable);
                     });
  self->receive(
      [&](latest_wins_event& ev) {
        BOOST_TEST(to_string(ev.kind) == "worker_down");
        BOOST_TEST(ev.key.empty());
        BOOST_TEST(ev.lost == 3u);
        BOOST_TEST(!ev.reason.empty());
      },
      caf::after(30s) >> [] { BOOST_FAIL("no worker_down event"); });
  auto s = stats(gate);
  BOOST_TEST(s.in_flight == 0u);
  BOOST_TEST(s.superseded == 1u);
  BOOST_TEST(s.keys == 0u);
  // The shared worker is gone for good. A request to a dead remote actor
  // is dropped without a bounce, so the gate sends none: the next submit
  // fails at once with the worker's exit reason.
  self->request(gate, caf::infinite, submit_atom_v, std::string{"c"},
                caf::make_message(ask_atom_v, int64_t{4}))
      .receive([](int64_t) { BOOST_FAIL("a dead worker answered"); },
               [](caf::error& err) {
                 BOOST_TEST(err == caf::exit_reason::remote_link_unreachable);
               });
  BOOST_TEST(stats(gate).factory_failures == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
