// Blocking overloads and real-scheduler stress. These run on CAF's real
// scheduler under a watchdog; they wait on answers, never sleep.
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <atomic>
#include <memory>

#include <actorkit/patterns/map_limit.hpp>
#include <actorkit/patterns/parallel.hpp>
#include <actorkit/patterns/sequential.hpp>

#include "fixtures/real_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;
using actorkit::testing::reaction;

namespace {

using ints = std::vector<int64_t>;

struct fixture : real_time_fixture {
  caf::scoped_actor self{sys};
  std::vector<caf::actor> services;

  testing::scripted_service echo(
      caf::timespan latency,
      std::function<int64_t(int64_t)> fn = [](int64_t x) { return x; }) {
    auto s = testing::spawn_echo_service(sys, latency, std::move(fn));
    services.push_back(s.actor);
    return s;
  }

  testing::scripted_service failing(caf::error err) {
    testing::scripted_service_config c;
    c.otherwise = reaction::fail_with(std::move(err));
    auto s = testing::spawn_scripted_service(sys, std::move(c));
    services.push_back(s.actor);
    return s;
  }

  ~fixture() {
    for (auto& s : services)
      self->send_exit(s, caf::exit_reason::user_shutdown);
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(blocking_suite, fixture)

BOOST_AUTO_TEST_CASE(blocking_all_and_all_settled) {
  auto a = echo(1ms, [](int64_t x) { return x * 2; });
  auto bad = failing(caf::make_error(error::overloaded));
  auto r = all(self, std::vector<call<int64_t>>{ask_int(a, 1), ask_int(a, 2)});
  BOOST_TEST(r.value() == (ints{2, 4}));
  auto s = all_settled(self, std::vector<call<int64_t>>{ask_int(a, 3), ask_int(bad, 4)});
  BOOST_REQUIRE(s.size() == 2u);
  BOOST_TEST(s[0].value() == 6);
  BOOST_TEST(s[1].error() == error::overloaded);
  auto failed = all(self, std::vector<call<int64_t>>{ask_int(a, 1), ask_int(bad, 2)});
  BOOST_TEST(failed.error() == error::overloaded);
}

BOOST_AUTO_TEST_CASE(blocking_any_and_race) {
  auto a = echo(caf::timespan::zero(), [](int64_t x) { return x + 1; });
  auto bad = failing(caf::make_error(error::dropped));
  auto r = any(self, std::vector<call<int64_t>>{ask_int(bad, 1), ask_int(a, 1)});
  BOOST_TEST(r.value() == 2);
  auto none = any(self, std::vector<call<int64_t>>{ask_int(bad, 1), ask_int(bad, 2)});
  BOOST_TEST(none.error() == error::all_failed);
  BOOST_TEST(causes(none.error()).size() == 2u);
  auto won = race(self, std::vector<call<int64_t>>{ask_int(a, 9)});
  BOOST_TEST(won.value() == 10);
}

BOOST_AUTO_TEST_CASE(blocking_map_limit_and_sequentials) {
  auto a = echo(caf::timespan::zero(), [](int64_t x) { return x * 10; });
  auto m =
      map_limit(self, ints{1, 2, 3, 4, 5}, 2, [=](int64_t x) { return ask_int(a, x); });
  BOOST_TEST(m.value() == (ints{10, 20, 30, 40, 50}));
  BOOST_TEST(a.counters->max_in_flight <= 2u);
  auto ms = map_limit_settled(self, ints{1}, 1, [=](int64_t x) { return ask_int(a, x); });
  BOOST_TEST(ms[0].value() == 10);
  auto seq = sequence(self, std::vector<call<int64_t>>{ask_int(a, 1), ask_int(a, 2)});
  BOOST_TEST(seq.value() == (ints{10, 20}));
  auto times2 = echo(caf::timespan::zero(), [](int64_t x) { return x * 2; });
  auto plus10 = echo(caf::timespan::zero(), [](int64_t x) { return x + 10; });
  auto half = echo(caf::timespan::zero(), [](int64_t x) { return x / 2; });
  std::vector<step<int64_t>> steps{[=](const int64_t& x) { return ask_int(times2, x); },
                                   [=](const int64_t& x) { return ask_int(plus10, x); },
                                   [=](const int64_t& x) { return ask_int(half, x); }};
  BOOST_TEST(waterfall(self, int64_t{5}, steps).value() == 10);
  auto sum =
      reduce(self, ints{1, 2, 3}, int64_t{0}, [=](const int64_t& acc, const int64_t& x) {
        return ask_int(plus10, acc + x);
      });
  BOOST_TEST(sum.value() == 36);
}

BOOST_AUTO_TEST_CASE(blocking_empty_inputs_return_at_once) {
  BOOST_TEST(all(self, std::vector<call<int64_t>>{}).value().empty());
  BOOST_TEST(all_settled(self, std::vector<call<int64_t>>{}).empty());
  BOOST_TEST(any(self, std::vector<call<int64_t>>{}).error() == error::all_failed);
  BOOST_TEST(race(self, std::vector<call<int64_t>>{}).error() == error::all_failed);
  auto never_called = [](int64_t) { return call<int64_t>{}; };
  BOOST_TEST(map_limit(self, ints{}, 3, never_called).value().empty());
  BOOST_TEST(sequence(self, std::vector<call<int64_t>>{}).value().empty());
  BOOST_TEST(waterfall(self, int64_t{5}, std::vector<step<int64_t>>{}).value() == 5);
}

BOOST_AUTO_TEST_CASE(a_killed_helper_still_answers_the_blocked_caller) {
  auto quiet = [&] {
    testing::scripted_service_config c;
    c.otherwise = reaction::never();
    auto s = testing::spawn_scripted_service(sys, std::move(c));
    services.push_back(s.actor);
    return s;
  }();
  // The composition itself kills its helper actor mid-way.
  auto r = await_expected<int64_t>(self, [=](caf::event_based_actor* h, auto done) {
    any(h, std::vector<call<int64_t>>{ask_int(quiet, 1)}, std::move(done));
    h->quit(caf::exit_reason::user_shutdown);
  });
  BOOST_TEST(r.error() == caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(stress_10000_concurrent_compositions_each_complete_exactly_once) {
  constexpr size_t drivers = 100;
  constexpr size_t per_driver = 100;
  constexpr size_t total = drivers * per_driver;
  auto a = echo(caf::timespan::zero(), [](int64_t x) { return x + 1; });
  auto b = echo(caf::timespan::zero(), [](int64_t x) { return x * 2; });
  auto bad = failing(caf::make_error(error::overloaded));
  auto slots = std::make_shared<std::vector<std::atomic<int>>>(total);
  auto wrong = std::make_shared<std::atomic<int>>(0);
  auto counter = std::make_shared<completion_counter>();
  std::vector<caf::actor> driver_handles;
  for (size_t d = 0; d < drivers; ++d) {
    driver_handles.push_back(sys.spawn([=](caf::event_based_actor* dself)
                                           -> caf::behavior {
      for (size_t k = 0; k < per_driver; ++k) {
        auto id = d * per_driver + k;
        auto x = static_cast<int64_t>(id);
        auto mark = [=](bool ok) {
          if (!ok)
            ++*wrong;
          ++(*slots)[id];
          counter->add();
        };
        switch (id % 5) {
        case 0:
          all(dself, std::vector<call<int64_t>>{ask_int(a, x), ask_int(b, x)},
              [=](caf::expected<ints> r) {
                mark(r && (*r)[0] == x + 1 && (*r)[1] == 2 * x);
              });
          break;
        case 1:
          all_settled(dself, std::vector<call<int64_t>>{ask_int(a, x), ask_int(bad, x)},
                      [=](std::vector<caf::expected<int64_t>> r) {
                        mark(r[0] && *r[0] == x + 1 && r[1].error() == error::overloaded);
                      });
          break;
        case 2:
          any(dself, std::vector<call<int64_t>>{ask_int(bad, x), ask_int(b, x)},
              [=](caf::expected<int64_t> r) { mark(r && *r == 2 * x); });
          break;
        case 3:
          race(dself, std::vector<call<int64_t>>{ask_int(a, x)},
               [=](caf::expected<int64_t> r) { mark(r && *r == x + 1); });
          break;
        default:
          map_limit(
              dself, ints{x, x + 1, x + 2}, 2, [=](int64_t y) { return ask_int(a, y); },
              [=](caf::expected<ints> r) {
                mark(r && *r == (ints{x + 1, x + 2, x + 3}));
              });
        }
      }
      return {[](done_atom) {}};
    }));
  }
  BOOST_REQUIRE(counter->wait_for(total, std::chrono::seconds(90)));
  for (auto& h : driver_handles)
    self->send_exit(h, caf::exit_reason::user_shutdown);
  size_t exactly_once = 0;
  for (auto& s : *slots)
    exactly_once += s == 1 ? 1 : 0;
  BOOST_TEST(exactly_once == total);
  BOOST_TEST(*wrong == 0);
  BOOST_TEST(counter->count() == total);
}

BOOST_AUTO_TEST_SUITE_END()
