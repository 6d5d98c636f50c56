#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/patterns/sequential.hpp>

#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;
using actorkit::testing::reaction;

namespace {

using ints = std::vector<int64_t>;
using all_result = caf::expected<ints>;
using one_result = caf::expected<int64_t>;

struct fixture : virtual_time_fixture {
  // The lesson's waterfall operations, each a service with latency.
  testing::scripted_service times2 = echo(10ms, [](int64_t x) { return x * 2; });
  testing::scripted_service plus10 = echo(20ms, [](int64_t x) { return x + 10; });
  testing::scripted_service half = echo(30ms, [](int64_t x) { return x / 2; });

  std::vector<step<int64_t>> lesson_steps() {
    auto to = [](testing::scripted_service s) {
      return step<int64_t>{[s](const int64_t& x) { return ask_int(s, x); }};
    };
    return {to(times2), to(plus10), to(half)};
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(sequential_suite, fixture)

BOOST_AUTO_TEST_CASE(sequence_runs_one_call_at_a_time_in_order) {
  auto svc = echo(10ms, [](int64_t x) { return x * 3; });
  std::vector<call<int64_t>> calls{ask_int(svc, 1), ask_int(svc, 2), ask_int(svc, 3)};
  auto out =
      start<all_result>([=](auto* self, auto done) { sequence(self, calls, done); });
  run();
  BOOST_TEST(svc.counters->calls == 1u);
  advance(10ms);
  BOOST_TEST(svc.counters->calls == 2u);
  advance(19ms);
  BOOST_TEST(svc.counters->calls == 3u);
  BOOST_TEST(!out->done());
  advance(1ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == (ints{3, 6, 9}));
  BOOST_TEST(svc.counters->max_in_flight == 1u);
}

BOOST_AUTO_TEST_CASE(sequence_never_starts_the_next_step_early) {
  // Different latencies per call: the next starts exactly when the previous answered.
  testing::scripted_service_config c;
  c.script = {reaction::reply_after(50ms), reaction::reply_after(5ms),
              reaction::reply_after(20ms)};
  auto svc = service(std::move(c));
  std::vector<call<int64_t>> calls{ask_int(svc, 1), ask_int(svc, 2), ask_int(svc, 3)};
  auto out =
      start<all_result>([=](auto* self, auto done) { sequence(self, calls, done); });
  run();
  advance(49ms);
  BOOST_TEST(svc.counters->calls == 1u);
  advance(1ms);
  BOOST_TEST(svc.counters->calls == 2u);
  advance(5ms);
  BOOST_TEST(svc.counters->calls == 3u);
  advance(20ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(ms(elapsed()) == 75);
  BOOST_TEST(svc.counters->max_in_flight == 1u);
}

BOOST_AUTO_TEST_CASE(sequence_stops_at_the_first_error) {
  testing::scripted_service_config c;
  c.script = {reaction::reply_after(5ms),
              reaction::fail_with(caf::make_error(error::overloaded), 5ms)};
  auto svc = service(std::move(c));
  std::vector<call<int64_t>> calls{ask_int(svc, 1), ask_int(svc, 2), ask_int(svc, 3),
                                   ask_int(svc, 4)};
  auto out =
      start<all_result>([=](auto* self, auto done) { sequence(self, calls, done); });
  run();
  advance(1s);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::overloaded);
  BOOST_TEST(svc.counters->calls == 2u);
}

BOOST_AUTO_TEST_CASE(sequence_of_nothing_is_empty_at_once) {
  auto out = start<all_result>(
      [](auto* self, auto done) { sequence(self, std::vector<call<int64_t>>{}, done); });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value().empty());
}

BOOST_AUTO_TEST_CASE(reduce_folds_through_requests) {
  // The adder answers acc * 1000 + item as one number: (ask, acc*1000+item) -> sum.
  auto adder = echo(10ms, [](int64_t packed) { return packed / 1000 + packed % 1000; });
  auto out = start<one_result>([=](auto* self, auto done) {
    reduce(
        self, ints{1, 2, 3, 4}, int64_t{0},
        [=](const int64_t& acc, const int64_t& item) {
          return ask_int(adder, acc * 1000 + item);
        },
        done);
  });
  run();
  advance(39ms);
  BOOST_TEST(!out->done());
  advance(1ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == 10);
  BOOST_TEST(adder.counters->max_in_flight == 1u);
}

BOOST_AUTO_TEST_CASE(reduce_of_nothing_is_the_initial_value) {
  auto adder = echo(10ms);
  auto out = start<one_result>([=](auto* self, auto done) {
    reduce(
        self, ints{}, int64_t{42},
        [=](const int64_t& acc, const int64_t& item) {
          return ask_int(adder, acc + item);
        },
        done);
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == 42);
  BOOST_TEST(adder.counters->calls == 0u);
}

BOOST_AUTO_TEST_CASE(reduce_stops_at_the_first_error) {
  testing::scripted_service_config c;
  c.script = {reaction::reply_after(1ms),
              reaction::fail_with(caf::make_error(error::dropped), 1ms)};
  auto svc = service(std::move(c));
  auto out = start<one_result>([=](auto* self, auto done) {
    reduce(
        self, ints{1, 2, 3}, int64_t{0},
        [=](const int64_t& acc, const int64_t& item) { return ask_int(svc, acc + item); },
        done);
  });
  run();
  advance(10ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::dropped);
  BOOST_TEST(svc.counters->calls == 2u);
}

BOOST_AUTO_TEST_CASE(waterfall_of_the_lesson_gives_10) {
  auto steps = lesson_steps();
  auto out = start<one_result>(
      [=](auto* self, auto done) { waterfall(self, int64_t{5}, steps, done); });
  run();
  advance(59ms);
  BOOST_TEST(!out->done());
  advance(1ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == 10);
}

BOOST_AUTO_TEST_CASE(waterfall_without_steps_is_the_initial_value) {
  auto out = start<one_result>([=](auto* self, auto done) {
    waterfall(self, int64_t{5}, std::vector<step<int64_t>>{}, done);
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == 5);
}

BOOST_AUTO_TEST_CASE(waterfall_refuses_an_empty_step) {
  auto steps = lesson_steps();
  steps.insert(steps.begin() + 1, step<int64_t>{});
  auto out = start<one_result>(
      [=](auto* self, auto done) { waterfall(self, int64_t{5}, steps, done); });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::invalid_config);
  BOOST_TEST(times2.counters->calls == 0u);
}

BOOST_AUTO_TEST_CASE(reduce_refuses_an_empty_step) {
  using step_fn = std::function<call<int64_t>(const int64_t&, const int64_t&)>;
  auto out = start<one_result>([=](auto* self, auto done) {
    reduce(self, std::vector<int64_t>{1, 2}, int64_t{0}, step_fn{}, done);
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::invalid_config);
}

BOOST_AUTO_TEST_CASE(waterfall_deadline_spans_all_steps) {
  auto steps = lesson_steps();
  auto opts = call_options{}.with_timeout(25ms).with_deadline(45ms);
  auto out = start<one_result>(
      [=](auto* self, auto done) { waterfall(self, int64_t{5}, steps, done, opts); });
  run();
  // times2 answers at 10ms, plus10 at 30ms, half would answer at 60ms: the
  // deadline (45ms) cuts it short, before its own 25ms timeout would.
  advance(44ms);
  BOOST_TEST(!out->done());
  advance(1ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::deadline_exceeded);
}

BOOST_AUTO_TEST_CASE(waterfall_step_timeout_is_a_request_timeout) {
  auto steps = lesson_steps();
  auto opts = call_options{}.with_timeout(15ms);
  auto out = start<one_result>(
      [=](auto* self, auto done) { waterfall(self, int64_t{5}, steps, done, opts); });
  run();
  advance(10ms);
  advance(15ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::sec::request_timeout);
  BOOST_TEST(half.counters->calls == 0u);
}

BOOST_AUTO_TEST_CASE(caller_death_stops_the_waterfall) {
  auto steps = lesson_steps();
  auto out = start<one_result>(
      [=](auto* self, auto done) { waterfall(self, int64_t{5}, steps, done); });
  run();
  advance(10ms);
  BOOST_TEST(plus10.counters->calls == 1u);
  kill(out->client);
  advance(1s);
  BOOST_TEST(half.counters->calls == 0u);
  BOOST_TEST(!out->done());
  BOOST_TEST(out.use_count() == 1);
}

BOOST_AUTO_TEST_CASE(a_throwing_step_completes_with_runtime_error) {
  auto svc = echo(10ms, [](int64_t x) { return x + 1; });
  auto out = start<one_result>([=](auto* self, auto done) {
    reduce(
        self, ints{1, 2, 3}, int64_t{0},
        [=](const int64_t& acc, int64_t item) {
          if (item == 2)
            throw 7;
          return ask_int(svc, acc + item);
        },
        done);
  });
  run();
  advance(100ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::sec::runtime_error);
  BOOST_TEST(out->calls == 1);
  BOOST_TEST(svc.counters->calls == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
