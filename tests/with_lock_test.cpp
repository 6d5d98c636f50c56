#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/patterns/with_lock.hpp>

#include "fixtures/real_time.hpp"
#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;
using actorkit::testing::reaction;

namespace {

using int_result = caf::expected<int64_t>;

caf::behavior store_impl(caf::event_based_actor*, std::shared_ptr<int64_t> value) {
  return {[=](get_atom) { return *value; }, [=](put_atom, int64_t x) { *value = x; }};
}

struct fixture : virtual_time_fixture {
  mutex_actor mtx;
  std::shared_ptr<int64_t> value = std::make_shared<int64_t>(0);
  caf::actor store;
  /// The "await something" between read and write: 10 ms of latency.
  testing::scripted_service pause = echo(10ms);

  fixture() {
    auto m = spawn_mutex(sys, {});
    BOOST_REQUIRE(m);
    mtx = *m;
    store = spawn(store_impl, value);
  }

  ~fixture() { caf::anon_send_exit(mtx, caf::exit_reason::user_shutdown); }

  /// The lesson's incrementCounter: read, await, write read + 1.
  template <class Self, class Finish>
  void increment(Self* self, Finish finish) {
    auto st = store;
    auto p = pause.actor;
    self->request(st, 1s, get_atom_v).then([=](int64_t current) {
      self->request(p, 1s, ask_atom_v, int64_t{0}).then([=](int64_t) {
        self->request(st, 1s, put_atom_v, current + 1).then([=]() {
          finish(int_result{current + 1});
        });
      });
    });
  }

  std::shared_ptr<outcome<int_result>> locked_increment(lock_options opts = {}) {
    return start<int_result>([=](auto* self, auto done) {
      with_lock<int64_t>(
          self, mtx, [=](const lease&, auto finish) { increment(self, finish); }, done,
          opts);
    });
  }

  mutex_stats stats() {
    auto m = mtx;
    auto out = start<mutex_stats>([=](auto* self, auto done) {
      self->request(m, caf::infinite, stats_atom_v).then([done](mutex_stats s) {
        done(s);
      });
    });
    run();
    return *out->value;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(with_lock_suite, fixture)

BOOST_AUTO_TEST_CASE(an_empty_body_is_refused_at_call_time) {
  // Called once the lock is granted, it would throw and stop the caller
  // while it holds the lock.
  using body_fn = std::function<void(const lease&, std::function<void(int_result)>)>;
  auto out = start<int_result>(
      [=](auto* self, auto done) { with_lock<int64_t>(self, mtx, body_fn{}, done); });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::invalid_config);
  BOOST_TEST(!caf::actor_cast<caf::abstract_actor*>(out->client)
                  ->getf(caf::abstract_actor::is_terminated_flag));
}

BOOST_AUTO_TEST_CASE(an_empty_done_takes_no_lock_and_keeps_the_caller) {
  auto client = spawn([=](caf::event_based_actor* self) -> caf::behavior {
    with_lock<int64_t>(
        self, mtx,
        [](const lease&, std::function<void(int_result)> finish) {
          finish(int_result{1});
        },
        std::function<void(int_result)>{});
    return {[](int64_t) {}};
  });
  run();
  BOOST_TEST(!caf::actor_cast<caf::abstract_actor*>(client)->getf(
      caf::abstract_actor::is_terminated_flag));
  BOOST_TEST(stats().grants == 0u);
}

BOOST_AUTO_TEST_CASE(without_the_lock_the_lesson_race_loses_updates) {
  std::vector<std::shared_ptr<outcome<int_result>>> outs;
  for (int i = 0; i < 3; ++i)
    outs.push_back(
        start<int_result>([=](auto* self, auto done) { increment(self, done); }));
  run();
  advance(10ms);
  for (auto& o : outs)
    BOOST_TEST(o->done());
  BOOST_TEST(*value == 1);
}

BOOST_AUTO_TEST_CASE(three_concurrent_locked_increments_count_to_three) {
  std::vector<std::shared_ptr<outcome<int_result>>> outs;
  for (int i = 0; i < 3; ++i)
    outs.push_back(locked_increment());
  run();
  advance(10ms);
  BOOST_TEST(*value == 1);
  BOOST_TEST(!outs[2]->done());
  advance(20ms);
  BOOST_TEST(*value == 3);
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(outs[i]->value->value() == i + 1);
  auto s = stats();
  BOOST_TEST(s.releases == 3u);
  BOOST_TEST(s.token == 0u);
}

BOOST_AUTO_TEST_CASE(releases_the_lock_when_the_body_fails) {
  auto out = start<int_result>([=](auto* self, auto done) {
    with_lock<int64_t>(
        self, mtx,
        [](const lease&, auto finish) {
          finish(int_result{caf::make_error(error::cancelled, "body failed")});
        },
        done);
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == error::cancelled);
  auto s = stats();
  BOOST_TEST(s.token == 0u);
  BOOST_TEST(s.releases == 1u);
}

BOOST_AUTO_TEST_CASE(releases_the_lock_when_the_body_times_out) {
  testing::scripted_service_config c;
  c.otherwise = reaction::never();
  auto silent = service(c);
  auto out = start<int_result>([=](auto* self, auto done) {
    with_lock<int64_t>(
        self, mtx,
        [=](const lease&, auto finish) {
          self->request(silent.actor, 50ms, ask_atom_v, int64_t{1})
              .then([=](int64_t x) { finish(int_result{x}); },
                    [=](caf::error& e) { finish(int_result{e}); });
        },
        done);
  });
  auto next = locked_increment();
  run();
  advance(49ms);
  BOOST_TEST(!out->done());
  BOOST_TEST(!next->done());
  advance(1ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::sec::request_timeout);
  advance(10ms);
  BOOST_REQUIRE(next->done());
  BOOST_TEST(next->value->value() == 1);
  BOOST_TEST(stats().token == 0u);
}

BOOST_AUTO_TEST_CASE(wait_timeout_fails_without_running_the_body) {
  auto first = locked_increment();
  auto ran = std::make_shared<bool>(false);
  auto out = start<int_result>([=](auto* self, auto done) {
    with_lock<int64_t>(
        self, mtx,
        [ran](const lease&, auto finish) {
          *ran = true;
          finish(int_result{0});
        },
        done, lock_options{}.with_wait(5ms));
  });
  run();
  advance(5ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::sec::request_timeout);
  advance(20ms);
  BOOST_TEST(!*ran);
  BOOST_TEST(first->value->value() == 1);
}

BOOST_AUTO_TEST_CASE(a_body_past_its_hold_time_loses_the_lock_and_reports_it) {
  auto slow = locked_increment(lock_options{}.with_hold(5ms));
  auto next = locked_increment();
  run();
  advance(5ms);
  BOOST_TEST(stats().token == 2u);
  advance(20ms);
  BOOST_REQUIRE(slow->done());
  BOOST_TEST(slow->value->error() == error::lease_expired);
  BOOST_REQUIRE(next->done());
  BOOST_TEST(stats().expiries == 1u);
}

BOOST_AUTO_TEST_CASE(a_body_failing_after_its_hold_time_reports_the_lost_lease) {
  auto slow = start<int_result>([=](auto* self, auto done) {
    auto p = pause.actor;
    with_lock<int64_t>(
        self, mtx,
        [=](const lease&, auto finish) {
          self->request(p, 1s, ask_atom_v, int64_t{0}).then([=](int64_t) {
            finish(int_result{caf::make_error(caf::sec::runtime_error, "body failed")});
          });
        },
        done, lock_options{}.with_hold(5ms));
  });
  run();
  advance(20ms);
  BOOST_REQUIRE(slow->done());
  BOOST_TEST(slow->value->error() == error::lease_expired);
  BOOST_TEST(sys.render(slow->value->error()).find("runtime_error") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(caller_death_inside_the_body_releases_the_lock) {
  auto doomed = locked_increment();
  auto next = locked_increment();
  run();
  kill(doomed->client);
  run();
  BOOST_TEST(stats().releases_by_death == 1u);
  advance(10ms);
  BOOST_REQUIRE(next->done());
  BOOST_TEST(!doomed->done());
}

BOOST_AUTO_TEST_CASE(invalid_options_and_null_mutex_are_refused) {
  auto a = start<int_result>([=](auto* self, auto done) {
    with_lock<int64_t>(
        self, mutex_actor{}, [](const lease&, auto finish) { finish(int_result{1}); },
        done);
  });
  auto b = start<int_result>([=](auto* self, auto done) {
    with_lock<int64_t>(
        self, mtx, [](const lease&, auto finish) { finish(int_result{1}); }, done,
        lock_options{}.with_hold(caf::timespan::zero()));
  });
  run();
  BOOST_TEST(a->value->error() == error::invalid_config);
  BOOST_TEST(b->value->error() == error::invalid_config);
  BOOST_TEST(stats().grants == 0u);
}

BOOST_FIXTURE_TEST_CASE(blocking_with_lock_from_user_threads, real_time_fixture) {
  auto m = spawn_mutex(sys, {});
  BOOST_REQUIRE(m);
  auto value = std::make_shared<int64_t>(0);
  auto st = sys.spawn(store_impl, value);
  constexpr int threads = 4, rounds = 50;
  std::vector<std::thread> workers;
  std::atomic<int> ok{0};
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([&] {
      caf::scoped_actor self{sys};
      for (int i = 0; i < rounds; ++i) {
        auto r =
            with_lock<int64_t>(self, *m, [st](auto* helper, const lease&, auto finish) {
              helper->request(st, 10s, get_atom_v).then([=](int64_t v) {
                helper->request(st, 10s, put_atom_v, v + 1).then([=]() {
                  finish(int_result{v + 1});
                });
              });
            });
        if (r)
          ++ok;
      }
    });
  for (auto& w : workers)
    w.join();
  BOOST_TEST(ok.load() == threads * rounds);
  BOOST_TEST(*value == threads * rounds);
  caf::anon_send_exit(*m, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(st, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_body_finishing_with_an_empty_error_fails) {
  auto m = mtx;
  auto out = start<int_result>([=](auto* self, auto done) {
    with_lock<int64_t>(
        self, m, [](const lease&, auto finish) { finish(int_result{caf::error{}}); },
        done);
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_REQUIRE(!*out->value);
  BOOST_TEST(out->value->error() == caf::sec::runtime_error);
  BOOST_TEST(stats().token == 0u);
}

BOOST_FIXTURE_TEST_CASE(blocking_with_lock_refuses_an_empty_body_at_call_time,
                        real_time_fixture) {
  auto m = spawn_mutex(sys, {});
  BOOST_REQUIRE(m);
  caf::scoped_actor self{sys};
  using body_fn = std::function<void(caf::event_based_actor*, const lease&,
                                     std::function<void(int_result)>)>;
  auto r = with_lock<int64_t>(self, *m, body_fn{});
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error() == error::invalid_config);
  // Refused before acquiring: the lock was never taken.
  self->request(*m, caf::infinite, stats_atom_v)
      .receive([&](mutex_stats s) { BOOST_TEST(s.grants == 0u); },
               [&](caf::error& e) { BOOST_FAIL(sys.render(e)); });
  caf::anon_send_exit(*m, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_SUITE_END()
