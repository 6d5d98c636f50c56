#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/actors/worker_pool.hpp>
#include <actorkit/patterns/execute_all.hpp>

#include "fixtures/real_time.hpp"
#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;
using actorkit::testing::reaction;

namespace {

using ints = std::vector<int64_t>;
using all_result = caf::expected<ints>;
using settled_result = std::vector<caf::expected<int64_t>>;

std::vector<caf::message> asks(std::vector<int64_t> xs) {
  std::vector<caf::message> result;
  for (auto x : xs)
    result.push_back(caf::make_message(ask_atom_v, x));
  return result;
}

struct fixture : virtual_time_fixture {
  std::vector<caf::actor> pools;
  /// Counters of every worker the pools started.
  std::vector<std::shared_ptr<const testing::service_counters>> workers;

  ~fixture() {
    for (auto& pool : pools)
      caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    run();
  }

  /// A pool of `n` scripted workers answering x * 10 as `react(x)` says.
  caf::actor pool(size_t n, std::function<reaction(int64_t)> react,
                  size_t capacity = 1000) {
    worker_pool_config cfg;
    cfg.workers = n;
    cfg.queue_capacity = capacity;
    auto p = spawn_worker_pool(sys, cfg, [this, react](caf::actor_system& s) {
      testing::scripted_service_config c;
      c.by_input = react;
      c.int_fn = [](int64_t x) { return x * 10; };
      auto svc = testing::spawn_scripted_service(s, c);
      workers.push_back(svc.counters);
      return svc.actor;
    });
    BOOST_REQUIRE(p);
    pools.push_back(*p);
    return *p;
  }

  uint64_t max_in_flight_per_worker() {
    uint64_t result = 0;
    for (auto& c : workers)
      result = std::max<uint64_t>(result, c->max_in_flight);
    return result;
  }
};

reaction latency_by_input(int64_t x) {
  return reaction::reply_after(std::chrono::milliseconds(10 * (5 - x % 5)));
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(execute_all_suite, fixture)

BOOST_AUTO_TEST_CASE(results_come_in_input_order) {
  auto p = pool(3, latency_by_input);
  auto out = start<all_result>([=](auto* self, auto done) {
    execute_all<int64_t>(self, p, asks({0, 1, 2, 3, 4, 5, 6}), done);
  });
  run();
  advance(200ms);
  BOOST_REQUIRE(out->done());
  BOOST_REQUIRE(static_cast<bool>(*out->value));
  BOOST_TEST(**out->value == (ints{0, 10, 20, 30, 40, 50, 60}));
  BOOST_TEST(out->calls == 1);
}

BOOST_AUTO_TEST_CASE(the_pool_bounds_the_concurrency) {
  auto p = pool(2, [](int64_t) { return reaction::reply_after(10ms); });
  auto t0 = now();
  auto out = start<all_result>([=](auto* self, auto done) {
    execute_all<int64_t>(self, p, asks({1, 2, 3, 4, 5, 6}), done);
  });
  run();
  advance(100ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(max_in_flight_per_worker() == 1u);
  // Three rounds of two.
  BOOST_TEST(ms(out->at - t0) == 30);
}

BOOST_AUTO_TEST_CASE(execute_all_fails_fast_with_the_first_error) {
  auto p = pool(3, [](int64_t x) {
    return x == 2 ? reaction::fail_with(caf::make_error(error::not_owner), 5ms)
                  : reaction::reply_after(20ms);
  });
  auto out = start<all_result>([=](auto* self, auto done) {
    execute_all<int64_t>(self, p, asks({1, 2, 3}), done);
  });
  run();
  advance(5ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::not_owner);
  advance(100ms);
  BOOST_TEST(out->calls == 1);
}

BOOST_AUTO_TEST_CASE(execute_all_settled_keeps_every_outcome) {
  auto p = pool(
      1,
      [](int64_t x) {
        return x == 2 ? reaction::fail_with(caf::make_error(error::not_owner), 5ms)
                      : reaction::reply_after(5ms);
      },
      2);
  // One runs, two wait, the fourth finds the queue full.
  auto out = start<settled_result>([=](auto* self, auto done) {
    execute_all_settled<int64_t>(self, p, asks({1, 2, 3, 4}), done);
  });
  run();
  advance(50ms);
  BOOST_REQUIRE(out->done());
  auto& r = *out->value;
  BOOST_REQUIRE(r.size() == 4u);
  BOOST_TEST(*r[0] == 10);
  BOOST_TEST(r[1].error() == error::not_owner);
  BOOST_TEST(*r[2] == 30);
  BOOST_TEST(r[3].error() == error::overloaded);
}

BOOST_AUTO_TEST_CASE(a_task_waiting_too_long_times_out_at_the_exact_time) {
  auto p = pool(1, [](int64_t) { return reaction::reply_after(30ms); });
  auto out = start<settled_result>([=](auto* self, auto done) {
    execute_all_settled<int64_t>(self, p, asks({1, 2}), done,
                                 call_options{}.with_timeout(50ms));
  });
  run();
  advance(49ms);
  BOOST_TEST(!out->done());
  advance(1ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(*(*out->value)[0] == 10);
  BOOST_TEST((*out->value)[1].error() == caf::sec::request_timeout);
}

BOOST_AUTO_TEST_CASE(empty_input_completes_at_once) {
  auto p = pool(1, latency_by_input);
  auto a = start<all_result>(
      [=](auto* self, auto done) { execute_all<int64_t>(self, p, {}, done); });
  auto s = start<settled_result>(
      [=](auto* self, auto done) { execute_all_settled<int64_t>(self, p, {}, done); });
  run();
  BOOST_REQUIRE(a->done());
  BOOST_TEST(ms(a->at - now()) == 0);
  BOOST_TEST((*a->value)->empty());
  BOOST_REQUIRE(s->done());
  BOOST_TEST(s->value->empty());
}

BOOST_AUTO_TEST_CASE(prioritized_tasks_overtake_plain_ones) {
  std::vector<int64_t> order;
  auto p = pool(1, [&](int64_t x) {
    order.push_back(x);
    return reaction::reply_after(10ms);
  });
  std::vector<caf::message> tasks{caf::make_message(ask_atom_v, int64_t{1}),
                                  caf::make_message(ask_atom_v, int64_t{2}),
                                  prioritized(9, ask_atom_v, int64_t{3})};
  auto out = start<all_result>(
      [=](auto* self, auto done) { execute_all<int64_t>(self, p, tasks, done); });
  run();
  advance(50ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(**out->value == (ints{10, 20, 30}));
  BOOST_TEST(order == (ints{1, 3, 2}));
}

BOOST_AUTO_TEST_CASE(blocking_overloads_work_from_a_user_thread) {
  real_time_fixture rt{std::chrono::seconds(30)};
  worker_pool_config cfg;
  cfg.workers = 3;
  auto p = spawn_worker_pool(rt.sys, cfg, [](caf::actor_system& s) {
    return testing::spawn_echo_service(s, 1ms, [](int64_t x) { return x + 1; }).actor;
  });
  BOOST_REQUIRE(p);
  caf::scoped_actor self{rt.sys};
  auto r = execute_all<int64_t>(self, *p, asks({1, 2, 3, 4, 5}));
  BOOST_REQUIRE(static_cast<bool>(r));
  BOOST_TEST(*r == (ints{2, 3, 4, 5, 6}));
  auto s = execute_all_settled<int64_t>(self, *p, asks({7, 8}));
  BOOST_REQUIRE(s.size() == 2u);
  BOOST_TEST(*s[1] == 9);
  caf::anon_send_exit(*p, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
