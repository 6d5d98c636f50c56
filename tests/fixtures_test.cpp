#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <thread>

#include "fixtures/real_time.hpp"
#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;
using actorkit::testing::reaction;

BOOST_AUTO_TEST_SUITE(fixtures_suite)

BOOST_AUTO_TEST_CASE(virtual_time_moves_only_when_told) {
  virtual_time_fixture f;
  auto t0 = f.now();
  f.run();
  BOOST_TEST(ms(f.now() - t0) == 0);
  f.advance(1500ms);
  BOOST_TEST(ms(f.elapsed()) == 1500);
}

BOOST_AUTO_TEST_CASE(delayed_messages_fire_exactly_at_their_time) {
  virtual_time_fixture f;
  auto fired = std::make_shared<std::optional<caf::actor_clock::time_point>>();
  auto a = f.spawn([fired](caf::event_based_actor* self) -> caf::behavior {
    self->delayed_send(self, std::chrono::milliseconds(250), tick_atom_v, uint64_t{0});
    return {[=](tick_atom, uint64_t) { *fired = self->clock().now(); }};
  });
  f.run();
  f.advance(249ms);
  BOOST_TEST(!fired->has_value());
  f.advance(1ms);
  BOOST_REQUIRE(fired->has_value());
  BOOST_TEST(ms(f.now() - **fired) == 0);
  BOOST_TEST(ms(f.elapsed()) == 250);
}

BOOST_AUTO_TEST_CASE(teardown_never_hangs_on_silent_services_and_pending_timeouts) {
  auto f = std::make_unique<virtual_time_fixture>();
  testing::scripted_service_config c;
  c.otherwise = reaction::never();
  auto svc = f->service(std::move(c));
  for (int i = 0; i < 10; ++i)
    f->start<caf::expected<int64_t>>([=](auto* self, auto done) {
      self->request(svc.actor, caf::timespan{std::chrono::hours(24)}, ask_atom_v,
                    int64_t{i})
          .then([done](int64_t x) mutable { done(caf::expected<int64_t>{x}); },
                [done](caf::error& e) mutable { done(caf::expected<int64_t>{e}); });
    });
  f->run();
  BOOST_TEST(svc.counters->in_flight == 10u);
  watchdog dog{std::chrono::seconds(30)};
  f.reset();
}

BOOST_AUTO_TEST_CASE(outcomes_count_every_delivery) {
  virtual_time_fixture f;
  auto out = f.start<int>([](auto*, auto done) {
    done(1);
    done(2);
  });
  f.run();
  BOOST_TEST(out->calls == 2);
  BOOST_TEST(*out->value == 1);
}

BOOST_AUTO_TEST_CASE(completion_counter_wakes_the_waiter) {
  completion_counter counter;
  std::thread t{[&] {
    for (int i = 0; i < 100; ++i)
      counter.add();
  }};
  BOOST_TEST(counter.wait_for(100, std::chrono::seconds(30)));
  t.join();
  BOOST_TEST(counter.count() == 100u);
  BOOST_TEST(!counter.wait_for(101, std::chrono::milliseconds(1)));
}

BOOST_AUTO_TEST_CASE(real_time_fixture_runs_actors_on_the_real_scheduler) {
  real_time_fixture f;
  auto svc = testing::spawn_echo_service(f.sys, caf::timespan::zero(),
                                         [](int64_t x) { return x + 1; });
  caf::scoped_actor self{f.sys};
  int64_t got = 0;
  self->request(svc.actor, std::chrono::seconds(10), ask_atom_v, int64_t{41})
      .receive([&](int64_t x) { got = x; }, [&](caf::error&) { got = -1; });
  BOOST_TEST(got == 42);
  self->send_exit(svc.actor, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
