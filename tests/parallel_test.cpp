#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/patterns/map_limit.hpp>
#include <actorkit/patterns/parallel.hpp>
#include <actorkit/patterns/sequential.hpp>

#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;
using actorkit::testing::reaction;

namespace {

using ints = std::vector<int64_t>;
using all_result = caf::expected<ints>;
using settled_result = std::vector<caf::expected<int64_t>>;
using one_result = caf::expected<int64_t>;

struct fixture : virtual_time_fixture {
  /// A service that answers x after `latency` with x * 10.
  testing::scripted_service slow(caf::timespan latency) {
    return echo(latency, [](int64_t x) { return x * 10; });
  }

  testing::scripted_service failing(caf::error err, caf::timespan latency) {
    testing::scripted_service_config c;
    c.otherwise = reaction::fail_with(std::move(err), latency);
    return service(std::move(c));
  }

  testing::scripted_service silent() {
    testing::scripted_service_config c;
    c.otherwise = reaction::never();
    return service(std::move(c));
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(parallel_suite, fixture)

BOOST_AUTO_TEST_CASE(an_empty_done_starts_nothing_and_keeps_the_caller) {
  // Nobody could be answered: the composition is refused (and logged)
  // instead of throwing later, inside a reply handler, which would stop the
  // calling actor.
  auto svc = slow(1ms);
  std::vector<call<int64_t>> calls{ask_int(svc, 1)};
  auto client = spawn([=](caf::event_based_actor* self) -> caf::behavior {
    all(self, calls, std::function<void(all_result)>{});
    all_settled(self, calls, std::function<void(settled_result)>{});
    any(self, calls, std::function<void(one_result)>{});
    race(self, calls, std::function<void(one_result)>{});
    sequence(self, calls, std::function<void(all_result)>{});
    map_limit(
        self, ints{1, 2}, 1, [=](int64_t x) { return ask_int(svc, x); },
        std::function<void(all_result)>{});
    map_limit_settled(
        self, ints{1, 2}, 1, [=](int64_t x) { return ask_int(svc, x); },
        std::function<void(settled_result)>{});
    reduce(
        self, ints{1, 2}, int64_t{0},
        [=](const int64_t&, const int64_t& x) { return ask_int(svc, x); },
        std::function<void(one_result)>{});
    waterfall(self, int64_t{1}, std::vector<step<int64_t>>{},
              std::function<void(one_result)>{});
    return {[](int64_t) {}};
  });
  run();
  advance(10ms);
  BOOST_TEST(svc.counters->calls == 0u);
  BOOST_TEST(!caf::actor_cast<caf::abstract_actor*>(client)->getf(
      caf::abstract_actor::is_terminated_flag));
}

BOOST_AUTO_TEST_CASE(all_keeps_input_order_not_completion_order) {
  auto a = slow(30ms), b = slow(10ms), c = slow(20ms);
  std::vector<call<int64_t>> calls{ask_int(a, 1), ask_int(b, 2), ask_int(c, 3)};
  auto out = start<all_result>([=](auto* self, auto done) { all(self, calls, done); });
  run();
  advance(20ms);
  BOOST_TEST(!out->done());
  advance(10ms);
  BOOST_REQUIRE(out->done());
  BOOST_REQUIRE(static_cast<bool>(*out->value));
  BOOST_TEST(**out->value == (ints{10, 20, 30}));
  BOOST_TEST(ms(now() - out->at) == 0);
  BOOST_TEST(ms(elapsed()) == 30);
}

BOOST_AUTO_TEST_CASE(all_sends_every_call_at_once) {
  auto svc = slow(10ms);
  std::vector<call<int64_t>> calls;
  for (int64_t i = 0; i < 8; ++i)
    calls.push_back(ask_int(svc, i));
  auto out = start<all_result>([=](auto* self, auto done) { all(self, calls, done); });
  run();
  BOOST_TEST(svc.counters->max_in_flight == 8u);
  advance(10ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value().size() == 8u);
}

BOOST_AUTO_TEST_CASE(all_first_error_wins_and_later_replies_are_ignored) {
  auto ok = slow(5ms);
  auto first = failing(caf::make_error(error::overloaded), 10ms);
  auto second = failing(caf::make_error(error::circuit_open), 20ms);
  std::vector<call<int64_t>> calls{ask_int(ok, 1), ask_int(second, 2), ask_int(first, 3)};
  auto out = start<all_result>([=](auto* self, auto done) { all(self, calls, done); });
  run();
  advance(10ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::overloaded);
  advance(50ms);
  BOOST_TEST(out->calls == 1);
  BOOST_TEST(second.counters->failed == 1u);
}

BOOST_AUTO_TEST_CASE(all_of_nothing_is_an_empty_vector_at_once) {
  auto out = start<all_result>(
      [](auto* self, auto done) { all(self, std::vector<call<int64_t>>{}, done); });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value().empty());
  BOOST_TEST(ms(elapsed()) == 0);
}

BOOST_AUTO_TEST_CASE(all_request_timeout_fires_exactly_at_the_configured_time) {
  auto quiet = silent();
  auto fast = slow(1ms);
  std::vector<call<int64_t>> calls{ask_int(fast, 1), ask_int(quiet, 2)};
  auto opts = call_options{}.with_timeout(50ms);
  auto out =
      start<all_result>([=](auto* self, auto done) { all(self, calls, done, opts); });
  run();
  advance(49ms);
  BOOST_TEST(!out->done());
  advance(1ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::sec::request_timeout);
  BOOST_TEST(ms(elapsed()) == 50);
}

BOOST_AUTO_TEST_CASE(all_reports_a_dead_target) {
  auto dead = slow(1ms);
  kill(dead.actor);
  std::vector<call<int64_t>> calls{ask_int(dead, 1)};
  auto out = start<all_result>([=](auto* self, auto done) { all(self, calls, done); });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::sec::request_receiver_down);
}

BOOST_AUTO_TEST_CASE(all_refuses_a_null_target) {
  std::vector<call<int64_t>> calls{call<int64_t>{}};
  auto out = start<all_result>([=](auto* self, auto done) { all(self, calls, done); });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::invalid_config);
}

BOOST_AUTO_TEST_CASE(all_refuses_invalid_options) {
  auto svc = slow(1ms);
  std::vector<call<int64_t>> calls{ask_int(svc, 1)};
  auto zero = call_options{}.with_timeout(caf::timespan::zero());
  auto negative = call_options{}.with_deadline(-1ms);
  auto a =
      start<all_result>([=](auto* self, auto done) { all(self, calls, done, zero); });
  auto b =
      start<all_result>([=](auto* self, auto done) { all(self, calls, done, negative); });
  run();
  BOOST_TEST(a->value->error() == error::invalid_config);
  BOOST_TEST(b->value->error() == error::invalid_config);
  BOOST_TEST(svc.counters->calls == 0u);
}

BOOST_AUTO_TEST_CASE(all_deadline_cuts_everything_short) {
  auto svc = slow(100ms);
  std::vector<call<int64_t>> calls{ask_int(svc, 1), ask_int(svc, 2)};
  auto opts = call_options{}.with_timeout(1s).with_deadline(40ms);
  auto out =
      start<all_result>([=](auto* self, auto done) { all(self, calls, done, opts); });
  run();
  advance(39ms);
  BOOST_TEST(!out->done());
  advance(1ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::deadline_exceeded);
}

BOOST_AUTO_TEST_CASE(all_settled_mixes_values_errors_and_timeouts) {
  auto ok = slow(10ms);
  auto bad = failing(caf::make_error(error::overloaded), 5ms);
  auto quiet = silent();
  std::vector<call<int64_t>> calls{ask_int(ok, 1), ask_int(bad, 2), ask_int(quiet, 3),
                                   ask_int(ok, 4)};
  auto opts = call_options{}.with_timeout(30ms);
  auto out = start<settled_result>(
      [=](auto* self, auto done) { all_settled(self, calls, done, opts); });
  run();
  advance(29ms);
  BOOST_TEST(!out->done());
  advance(1ms);
  BOOST_REQUIRE(out->done());
  auto& r = *out->value;
  BOOST_REQUIRE(r.size() == 4u);
  BOOST_TEST(r[0].value() == 10);
  BOOST_TEST(r[1].error() == error::overloaded);
  BOOST_TEST(r[2].error() == caf::sec::request_timeout);
  BOOST_TEST(r[3].value() == 40);
}

BOOST_AUTO_TEST_CASE(all_settled_never_fails_even_when_everything_does) {
  auto bad = failing(caf::make_error(error::dropped), 1ms);
  std::vector<call<int64_t>> calls{ask_int(bad, 1), ask_int(bad, 2), call<int64_t>{}};
  auto out = start<settled_result>(
      [=](auto* self, auto done) { all_settled(self, calls, done); });
  run();
  advance(1ms);
  BOOST_REQUIRE(out->done());
  auto& r = *out->value;
  BOOST_REQUIRE(r.size() == 3u);
  BOOST_TEST(r[0].error() == error::dropped);
  BOOST_TEST(r[1].error() == error::dropped);
  BOOST_TEST(r[2].error() == error::invalid_config);
  BOOST_TEST(out->calls == 1);
}

BOOST_AUTO_TEST_CASE(all_settled_of_nothing_is_empty_at_once) {
  auto out = start<settled_result>([](auto* self, auto done) {
    all_settled(self, std::vector<call<int64_t>>{}, done);
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->empty());
}

BOOST_AUTO_TEST_CASE(all_settled_with_invalid_options_settles_each_as_invalid) {
  auto svc = slow(1ms);
  std::vector<call<int64_t>> calls{ask_int(svc, 1), ask_int(svc, 2)};
  auto opts = call_options{}.with_timeout(-5ms);
  auto out = start<settled_result>(
      [=](auto* self, auto done) { all_settled(self, calls, done, opts); });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_REQUIRE(out->value->size() == 2u);
  for (auto& x : *out->value)
    BOOST_TEST(x.error() == error::invalid_config);
}

BOOST_AUTO_TEST_CASE(all_settled_deadline_marks_unfinished_work) {
  auto fast = slow(10ms);
  auto lazy = slow(500ms);
  std::vector<call<int64_t>> calls{ask_int(fast, 1), ask_int(lazy, 2)};
  auto opts = call_options{}.with_deadline(100ms);
  auto out = start<settled_result>(
      [=](auto* self, auto done) { all_settled(self, calls, done, opts); });
  run();
  advance(100ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST((*out->value)[0].value() == 10);
  BOOST_TEST((*out->value)[1].error() == error::deadline_exceeded);
}

BOOST_AUTO_TEST_CASE(any_takes_the_first_success_even_after_failures) {
  auto bad = failing(caf::make_error(error::overloaded), 1ms);
  auto ok_slow = slow(30ms);
  auto ok_fast = slow(20ms);
  std::vector<call<int64_t>> calls{ask_int(bad, 1), ask_int(ok_slow, 2),
                                   ask_int(ok_fast, 3)};
  auto out = start<one_result>([=](auto* self, auto done) { any(self, calls, done); });
  run();
  advance(1ms);
  BOOST_TEST(!out->done());
  advance(19ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == 30);
  advance(20ms);
  BOOST_TEST(out->calls == 1);
}

BOOST_AUTO_TEST_CASE(any_reports_all_failed_with_every_cause_in_input_order) {
  auto a = failing(caf::make_error(error::overloaded), 20ms);
  auto b = failing(caf::make_error(error::circuit_open), 10ms);
  auto quiet = silent();
  std::vector<call<int64_t>> calls{ask_int(a, 1), ask_int(b, 2), ask_int(quiet, 3)};
  auto opts = call_options{}.with_timeout(40ms);
  auto out =
      start<one_result>([=](auto* self, auto done) { any(self, calls, done, opts); });
  run();
  advance(39ms);
  BOOST_TEST(!out->done());
  advance(1ms);
  BOOST_REQUIRE(out->done());
  auto err = out->value->error();
  BOOST_TEST(err == error::all_failed);
  auto why = causes(err);
  BOOST_REQUIRE(why.size() == 3u);
  BOOST_TEST(why[0] == error::overloaded);
  BOOST_TEST(why[1] == error::circuit_open);
  BOOST_TEST(why[2] == caf::sec::request_timeout);
}

BOOST_AUTO_TEST_CASE(any_of_nothing_is_all_failed_without_causes) {
  auto out = start<one_result>(
      [](auto* self, auto done) { any(self, std::vector<call<int64_t>>{}, done); });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::all_failed);
  BOOST_TEST(causes(out->value->error()).empty());
}

BOOST_AUTO_TEST_CASE(race_settles_with_the_first_value) {
  auto a = slow(30ms), b = slow(10ms);
  std::vector<call<int64_t>> calls{ask_int(a, 1), ask_int(b, 2)};
  auto out = start<one_result>([=](auto* self, auto done) { race(self, calls, done); });
  run();
  advance(10ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == 20);
  advance(30ms);
  BOOST_TEST(out->calls == 1);
  BOOST_TEST(a.counters->replied == 1u);
}

BOOST_AUTO_TEST_CASE(race_settles_with_the_first_error) {
  auto ok = slow(30ms);
  auto bad = failing(caf::make_error(error::dropped), 5ms);
  std::vector<call<int64_t>> calls{ask_int(ok, 1), ask_int(bad, 2)};
  auto out = start<one_result>([=](auto* self, auto done) { race(self, calls, done); });
  run();
  advance(5ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::dropped);
}

BOOST_AUTO_TEST_CASE(race_of_nothing_completes_at_once) {
  auto out = start<one_result>(
      [](auto* self, auto done) { race(self, std::vector<call<int64_t>>{}, done); });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::all_failed);
}

BOOST_AUTO_TEST_CASE(caller_death_mid_way_leaks_nothing_and_crashes_nothing) {
  auto svc = slow(50ms);
  std::vector<call<int64_t>> calls{ask_int(svc, 1), ask_int(svc, 2), ask_int(svc, 3)};
  auto baseline = running();
  auto out = start<all_result>([=](auto* self, auto done) { all(self, calls, done); });
  run();
  BOOST_TEST(svc.counters->in_flight == 3u);
  kill(out->client);
  advance(50ms);
  trigger_timeouts();
  BOOST_TEST(!out->done());
  BOOST_TEST(svc.counters->replied == 3u);
  BOOST_TEST(running() == baseline);
  // The state of the composition is released with the caller's handlers: the
  // outcome is referenced only by this test now.
  BOOST_TEST(out.use_count() == 1);
}

BOOST_AUTO_TEST_CASE(all_answers_through_a_response_promise) {
  auto a = slow(10ms), b = slow(20ms);
  auto front = spawn([=](caf::event_based_actor* self) -> caf::behavior {
    return {[=](run_atom) {
      auto rp = self->make_response_promise();
      all(self, std::vector<call<int64_t>>{ask_int(a, 1), ask_int(b, 2)}, deliver_to(rp));
    }};
  });
  auto out = start<all_result>([=](auto* self, auto done) {
    self->request(front, caf::infinite, run_atom_v)
        .then([done](ints& xs) mutable { done(all_result{std::move(xs)}); },
              [done](caf::error& err) mutable { done(all_result{err}); });
  });
  run();
  advance(20ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == (ints{10, 20}));
}

BOOST_AUTO_TEST_CASE(typed_actors_can_run_compositions) {
  using front_actor = caf::typed_actor<caf::replies_to<run_atom>::with<int64_t>>;
  auto a = slow(10ms), b = failing(caf::make_error(error::overloaded), 1ms);
  auto front = spawn([=](front_actor::pointer self) -> front_actor::behavior_type {
    return {[=](run_atom) -> caf::result<int64_t> {
      auto rp = self->make_response_promise<int64_t>();
      any(self, std::vector<call<int64_t>>{ask_int(b, 1), ask_int(a, 4)}, deliver_to(rp));
      return rp;
    }};
  });
  auto out = start<one_result>([=](auto* self, auto done) {
    self->request(front, caf::infinite, run_atom_v)
        .then([done](int64_t x) mutable { done(one_result{x}); },
              [done](caf::error& err) mutable { done(one_result{err}); });
  });
  run();
  advance(10ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == 40);
}

BOOST_AUTO_TEST_SUITE_END()
