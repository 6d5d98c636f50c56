#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/patterns/map_limit.hpp>

#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;
using actorkit::testing::reaction;

namespace {

using ints = std::vector<int64_t>;
using all_result = caf::expected<ints>;
using settled_result = std::vector<caf::expected<int64_t>>;

ints iota(int64_t n) {
  ints xs;
  for (int64_t i = 0; i < n; ++i)
    xs.push_back(i);
  return xs;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(map_limit_suite, virtual_time_fixture)

BOOST_AUTO_TEST_CASE(never_exceeds_the_limit_and_keeps_input_order) {
  // Latency depends on the input so that completion order differs from input order.
  testing::scripted_service_config c;
  c.by_input = [](int64_t x) {
    return reaction::reply_after(std::chrono::milliseconds(10 + (x % 3) * 7));
  };
  c.int_fn = [](int64_t x) { return x * x; };
  auto svc = service(std::move(c));
  auto out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, iota(20), 3, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  run();
  BOOST_TEST(svc.counters->in_flight == 3u);
  advance(1s);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(svc.counters->max_in_flight == 3u);
  BOOST_TEST(svc.counters->calls == 20u);
  ints expected;
  for (auto x : iota(20))
    expected.push_back(x * x);
  BOOST_TEST(out->value->value() == expected);
}

BOOST_AUTO_TEST_CASE(takes_ceil_n_over_limit_rounds_of_latency) {
  auto svc = echo(100ms);
  auto out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, iota(10), 3, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  run();
  advance(399ms);
  BOOST_TEST(!out->done());
  advance(1ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == iota(10));
}

BOOST_AUTO_TEST_CASE(a_freed_slot_is_refilled_at_once) {
  // Input 0 is slow; the others flow through the second slot meanwhile.
  testing::scripted_service_config c;
  c.by_input = [](int64_t x) {
    return reaction::reply_after(x == 0 ? std::chrono::milliseconds(100)
                                        : std::chrono::milliseconds(10));
  };
  auto svc = service(std::move(c));
  auto out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, iota(5), 2, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  run();
  advance(40ms);
  BOOST_TEST(svc.counters->calls == 5u);
  BOOST_TEST(!out->done());
  advance(60ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(ms(elapsed()) == 100);
}

BOOST_AUTO_TEST_CASE(fails_fast_and_starts_nothing_after_the_first_error) {
  testing::scripted_service_config c;
  c.by_input = [](int64_t x) {
    return x == 2 ? reaction::fail_with(caf::make_error(error::overloaded), 10ms)
                  : reaction::reply_after(10ms);
  };
  auto svc = service(std::move(c));
  auto out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, iota(10), 2, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  run();
  advance(20ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::overloaded);
  advance(1s);
  // Inputs 0..3 were started (two rounds of two); nothing after the error.
  BOOST_TEST(svc.counters->calls == 4u);
  BOOST_TEST(out->calls == 1);
}

BOOST_AUTO_TEST_CASE(settled_variant_keeps_going_and_reports_each_input) {
  testing::scripted_service_config c;
  c.by_input = [](int64_t x) {
    return x % 2 == 1 ? reaction::fail_with(caf::make_error(error::dropped), 5ms)
                      : reaction::reply_after(5ms);
  };
  auto svc = service(std::move(c));
  auto out = start<settled_result>([=](auto* self, auto done) {
    map_limit_settled(
        self, iota(6), 2, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  run();
  advance(15ms);
  BOOST_REQUIRE(out->done());
  BOOST_REQUIRE(out->value->size() == 6u);
  for (int64_t i = 0; i < 6; ++i) {
    auto& r = (*out->value)[static_cast<size_t>(i)];
    if (i % 2 == 1)
      BOOST_TEST(r.error() == error::dropped);
    else
      BOOST_TEST(r.value() == i);
  }
  BOOST_TEST(svc.counters->max_in_flight == 2u);
}

BOOST_AUTO_TEST_CASE(a_zero_limit_is_refused) {
  auto svc = echo(1ms);
  auto out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, iota(3), 0, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  auto settled = start<settled_result>([=](auto* self, auto done) {
    map_limit_settled(
        self, iota(3), 0, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::invalid_config);
  BOOST_REQUIRE(settled->value->size() == 3u);
  BOOST_TEST((*settled->value)[0].error() == error::invalid_config);
  BOOST_TEST(svc.counters->calls == 0u);
}

BOOST_AUTO_TEST_CASE(an_empty_make_function_is_refused) {
  using make_fn = std::function<call<int64_t>(const int64_t&)>;
  auto out = start<all_result>(
      [=](auto* self, auto done) { map_limit(self, iota(3), 2, make_fn{}, done); });
  auto settled = start<settled_result>([=](auto* self, auto done) {
    map_limit_settled(self, iota(3), 2, make_fn{}, done);
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::invalid_config);
  BOOST_REQUIRE(settled->done());
  BOOST_REQUIRE(settled->value->size() == 3u);
  BOOST_TEST((*settled->value)[2].error() == error::invalid_config);
}

BOOST_AUTO_TEST_CASE(limits_come_as_any_integer_or_enumerator) {
  enum { two = 2 };
  auto svc = echo(10ms);
  auto out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, iota(4), two, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  auto unsigned_out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, iota(4), size_t{4}, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  run();
  advance(20ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == iota(4));
  BOOST_REQUIRE(unsigned_out->done());
  BOOST_TEST(unsigned_out->value->value() == iota(4));
}

BOOST_AUTO_TEST_CASE(a_negative_limit_is_refused_not_taken_as_unlimited) {
  auto svc = echo(1ms);
  int limit = -1;
  auto out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, iota(3), limit, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::invalid_config);
  BOOST_TEST(svc.counters->calls == 0u);
}

BOOST_AUTO_TEST_CASE(empty_input_completes_at_once) {
  auto svc = echo(1ms);
  auto out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, ints{}, 4, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value().empty());
}

BOOST_AUTO_TEST_CASE(a_limit_above_the_input_size_runs_everything_at_once) {
  auto svc = echo(10ms);
  auto out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, iota(4), 100, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  run();
  BOOST_TEST(svc.counters->in_flight == 4u);
  advance(10ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == iota(4));
}

BOOST_AUTO_TEST_CASE(the_deadline_covers_inputs_not_yet_started) {
  auto svc = echo(30ms);
  auto opts = call_options{}.with_deadline(70ms);
  auto out = start<settled_result>([=](auto* self, auto done) {
    map_limit_settled(
        self, iota(4), 1, [=](int64_t x) { return ask_int(svc, x); }, done, opts);
  });
  run();
  advance(70ms);
  BOOST_REQUIRE(out->done());
  auto& r = *out->value;
  BOOST_TEST(r[0].value() == 0);
  BOOST_TEST(r[1].value() == 1);
  BOOST_TEST(r[2].error() == error::deadline_exceeded);
  BOOST_TEST(r[3].error() == error::deadline_exceeded);
  // The last input was never sent: the deadline had passed.
  BOOST_TEST(svc.counters->calls == 3u);
}

BOOST_AUTO_TEST_CASE(per_request_timeout_applies_to_each_input) {
  testing::scripted_service_config c;
  c.by_input = [](int64_t x) {
    return x == 1 ? reaction::never() : reaction::reply_after(5ms);
  };
  auto svc = service(std::move(c));
  auto opts = call_options{}.with_timeout(20ms);
  auto out = start<settled_result>([=](auto* self, auto done) {
    map_limit_settled(
        self, iota(3), 1, [=](int64_t x) { return ask_int(svc, x); }, done, opts);
  });
  run();
  advance(5ms);
  advance(19ms);
  BOOST_TEST(!out->done());
  advance(1ms);
  advance(5ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST((*out->value)[1].error() == caf::sec::request_timeout);
  BOOST_TEST((*out->value)[2].value() == 2);
  BOOST_TEST(ms(elapsed()) == 30);
}

BOOST_AUTO_TEST_CASE(caller_death_stops_the_map) {
  auto svc = echo(10ms);
  auto out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, iota(10), 2, [=](int64_t x) { return ask_int(svc, x); }, done);
  });
  run();
  advance(10ms);
  BOOST_TEST(svc.counters->calls == 4u);
  kill(out->client);
  advance(1s);
  BOOST_TEST(svc.counters->calls == 4u);
  BOOST_TEST(!out->done());
}

BOOST_AUTO_TEST_CASE(calls_may_go_to_different_targets) {
  auto even = echo(10ms, [](int64_t x) { return x + 100; });
  auto odd = echo(20ms, [](int64_t x) { return x + 200; });
  auto out = start<all_result>([=](auto* self, auto done) {
    map_limit(
        self, iota(4), 2, [=](int64_t x) { return ask_int(x % 2 == 0 ? even : odd, x); },
        done);
  });
  run();
  advance(40ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == (ints{100, 201, 102, 203}));
}

BOOST_AUTO_TEST_CASE(a_throwing_make_fails_its_input_not_the_actor) {
  auto svc = echo(10ms);
  auto make = [=](int64_t x) {
    if (x == 2)
      throw std::runtime_error("no call for 2");
    return ask_int(svc, x);
  };
  auto fast = start<all_result>(
      [=](auto* self, auto done) { map_limit(self, iota(5), 2, make, done); });
  auto settled = start<settled_result>(
      [=](auto* self, auto done) { map_limit_settled(self, iota(5), 2, make, done); });
  run();
  advance(100ms);
  BOOST_REQUIRE(fast->done());
  BOOST_TEST(fast->value->error() == caf::sec::runtime_error);
  BOOST_REQUIRE(settled->done());
  BOOST_REQUIRE(settled->value->size() == 5u);
  for (int64_t i = 0; i < 5; ++i) {
    auto& r = (*settled->value)[static_cast<size_t>(i)];
    if (i == 2)
      BOOST_TEST(r.error() == caf::sec::runtime_error);
    else
      BOOST_TEST((r && *r == i));
  }
}

BOOST_AUTO_TEST_SUITE_END()
