// An actor system whose actorkit actors nobody holds any more shuts down at
// once, whatever timers those actors still have pending: CAF's clock holds
// the receiver of a delayed message strongly, and the system's shutdown waits
// for every actor. Each test arms a one-hour timer; only the watchdog ends a
// test that waits for it.
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/actors/mutex.hpp>
#include <actorkit/actors/serialized.hpp>
#include <actorkit/patterns/with_lock.hpp>

#include "fixtures/real_time.hpp"

using namespace actorkit;
using namespace actorkit::test;

namespace {

constexpr auto one_hour = caf::timespan{std::chrono::hours(1)};

} // namespace

BOOST_AUTO_TEST_SUITE(shutdown_suite)

BOOST_AUTO_TEST_CASE(a_mutex_with_a_hold_limit_timer_pending_does_not_hold_up_shutdown) {
  watchdog dog{std::chrono::seconds(60)};
  real_time_config cfg;
  caf::actor_system sys{cfg};
  mutex_config c;
  c.max_hold = one_hour;
  auto m = spawn_mutex(sys, c);
  BOOST_REQUIRE(m);
  caf::scoped_actor self{sys};
  // The grant arms the hold limit's timer; the release leaves it pending.
  auto r = with_lock<int64_t>(
      self, *m, [](auto*, const lease&, auto finish) { finish(int64_t{1}); });
  BOOST_TEST(r.value() == 1);
  self->request(*m, caf::infinite, stats_atom_v)
      .receive([](mutex_stats& s) { BOOST_TEST(s.grants == 1u); },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
}

BOOST_AUTO_TEST_CASE(
    a_serialized_actor_with_an_op_timer_pending_does_not_hold_up_shutdown) {
  watchdog dog{std::chrono::seconds(60)};
  real_time_config cfg;
  caf::actor_system sys{cfg};
  serialized_config<int64_t> c;
  c.op_timeout = one_hour;
  auto s = spawn_serialized<int64_t>(sys, c);
  BOOST_REQUIRE(s);
  auto echo = sys.spawn([]() -> caf::behavior { return {[](int64_t x) { return x; }}; });
  caf::scoped_actor self{sys};
  // An update that commits later (read, await, write) arms the op timer.
  update_op<int64_t> op{
      [echo](caf::event_based_actor* a, const int64_t& v, commit_fn<int64_t> commit) {
        a->request(echo, caf::infinite, v)
            .then([=](int64_t x) { commit(x + 1); }, [=](caf::error& e) { commit(e); });
      }};
  self->request(*s, caf::infinite, update_atom_v, op)
      .receive([](int64_t x) { BOOST_TEST(x == 1); },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
}

BOOST_AUTO_TEST_SUITE_END()
