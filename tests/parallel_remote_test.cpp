// The compositions across processes: calls to actors in another process
// (`actorkit_remote_node`, tests/support/remote_node.cpp) whose process is
// killed while the calls wait. CAF never answers a request that reached a
// process that is gone and drops one sent to a dead remote actor; the
// compositions watch remote targets, so they fail at once with the exit
// reason instead of at their timeout. Real scheduler and real sockets on
// 127.0.0.1, under a watchdog; the test waits for events, never by sleeping.
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/actors/mutex.hpp>
#include <actorkit/patterns/parallel.hpp>
#include <actorkit/patterns/with_lock.hpp>

#include "fixtures/remote.hpp"

using namespace actorkit;
using namespace actorkit::test;
using namespace std::chrono_literals;

namespace {

// Longer than the test's watchdog: a call that ends at its timeout fails the
// test.
constexpr auto call_timeout = caf::timespan{600s};

// Runs compositions for the test, which is a blocking actor and cannot.
caf::behavior driver(caf::event_based_actor* self) {
  return {
      [=](run_atom,
          const std::vector<caf::actor>& targets) -> caf::result<std::vector<int64_t>> {
        auto rp = self->make_response_promise<std::vector<int64_t>>();
        std::vector<call<int64_t>> calls;
        for (auto& t : targets)
          calls.push_back(ask<int64_t>(t, ask_atom_v, int64_t{7}));
        all(self, calls, deliver_to(self, rp), call_options{}.with_timeout(call_timeout));
        return rp;
      },
      [=](acquire_atom, const caf::actor& mtx) -> caf::result<int64_t> {
        auto rp = self->make_response_promise<int64_t>();
        with_lock<int64_t>(
            self, caf::actor_cast<mutex_actor>(mtx),
            [](const lease&, auto finish) { finish(int64_t{1}); }, deliver_to(self, rp));
        return rp;
      },
  };
}

struct parallel_remote_fixture : remote_fixture {
  caf::scoped_actor self{sys};
  caf::actor drv;

  parallel_remote_fixture() {
    drv = sys.spawn(driver);
    to_stop.push_back(drv);
  }

  // An actor of `kind` in the node behind `spawner` (remote_node.cpp); a
  // "park" worker tells this test's actor (put_atom, x) when it got x.
  caf::actor remote(const caf::actor& spawner, const char* kind) {
    caf::actor result;
    self->request(spawner, 30s, run_atom_v, std::string{kind},
                  caf::actor_cast<caf::actor>(self))
        .receive([&](caf::actor& x) { result = std::move(x); },
                 [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    BOOST_REQUIRE(result);
    return result;
  }

  void expect_lost(caf::error err) {
    BOOST_TEST(err == caf::exit_reason::remote_link_unreachable);
  }

  // The failed call ended in the composition, not by stopping the driver.
  void expect_driver_alive() {
    BOOST_TEST(!caf::actor_cast<caf::abstract_actor*>(drv)->getf(
        caf::abstract_actor::is_terminated_flag));
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(parallel_remote_suite, parallel_remote_fixture)

BOOST_AUTO_TEST_CASE(all_over_remote_targets_answers_and_fails_at_once_when_they_die) {
  node_process node{"workers"};
  auto spawner = connect(node.port());
  auto echo = remote(spawner, "echo");
  auto park = remote(spawner, "park");
  self->request(drv, 30s, run_atom_v, std::vector<caf::actor>{echo, echo})
      .receive(
          [](std::vector<int64_t>& xs) {
            BOOST_TEST(xs == (std::vector<int64_t>{7, 7}));
          },
          [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  // One call is answered, one parks in the other process, which is killed.
  auto pending =
      self->request(drv, caf::infinite, run_atom_v, std::vector<caf::actor>{echo, park});
  self->receive([](put_atom, int64_t x) { BOOST_TEST(x == 7); },
                caf::after(30s) >>
                    [] { BOOST_FAIL("the call never reached the worker"); });
  node.kill();
  pending.receive([](std::vector<int64_t>&) { BOOST_FAIL("a parked call was answered"); },
                  [&](caf::error& err) { expect_lost(err); });
  expect_driver_alive();
  // A call to a remote actor that is gone already fails at once with the
  // reason it went (CAF itself drops such a request without an answer).
  self->request(drv, caf::infinite, run_atom_v, std::vector<caf::actor>{echo})
      .receive([](std::vector<int64_t>&) { BOOST_FAIL("a dead actor answered"); },
               [&](caf::error& err) { expect_lost(err); });
  expect_driver_alive();
}

BOOST_AUTO_TEST_CASE(with_lock_on_a_remote_mutex_ends_when_the_mutex_is_gone) {
  node_process node{"workers"};
  auto spawner = connect(node.port());
  auto mtx = remote(spawner, "mutex");
  // Uncontended: acquire, body, release across the connection.
  self->request(drv, 30s, acquire_atom_v, mtx)
      .receive([](int64_t x) { BOOST_TEST(x == 1); },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  // An actor in the other process takes the lock and keeps it; the driver
  // waits for it, with no wait limit.
  self->request(spawner, 30s, acquire_atom_v, mtx)
      .receive([](uint64_t token) { BOOST_TEST(token == 2u); },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  auto pending = self->request(drv, caf::infinite, acquire_atom_v, mtx);
  // The driver's acquire and this actor's stats requests come from two
  // senders: ask until the mutex has queued it.
  uint64_t queued = 0;
  for (int i = 0; i < 10000 && queued == 0; ++i)
    self->request(mtx, 30s, stats_atom_v)
        .receive([&](mutex_stats& s) { queued = s.queued; },
                 [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  BOOST_REQUIRE(queued == 1u);
  node.kill();
  pending.receive([](int64_t) { BOOST_FAIL("the lock of a dead mutex was granted"); },
                  [&](caf::error& err) { expect_lost(err); });
  expect_driver_alive();
}

BOOST_AUTO_TEST_SUITE_END()
