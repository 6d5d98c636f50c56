#include <boost/test/unit_test.hpp>

#include <stdexcept>

#include <caf/all.hpp>

#include <actorkit/actors/serialized.hpp>

#include "fixtures/real_time.hpp"
#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;

namespace {

using int_result = caf::expected<int64_t>;
using counter_actor = serialized_actor<int64_t>;

/// The lesson's incrementCounter as an update: read, await `pause`, write + 1.
update_op<int64_t> async_increment(caf::actor pause) {
  return {
      [pause](caf::event_based_actor* self, const int64_t& v, commit_fn<int64_t> commit) {
        self->request(pause, std::chrono::seconds(10), ask_atom_v, int64_t{0})
            .then([=](int64_t) { commit(v + 1); }, [=](caf::error& e) { commit(e); });
      }};
}

struct fixture : virtual_time_fixture {
  std::vector<caf::actor> own;
  testing::scripted_service pause = echo(10ms);

  ~fixture() {
    for (auto& hdl : own)
      caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  }

  counter_actor make(serialized_config<int64_t> c = {}) {
    auto x = spawn_serialized<int64_t>(sys, c);
    BOOST_REQUIRE(x);
    own.push_back(caf::actor_cast<caf::actor>(*x));
    return *x;
  }

  std::shared_ptr<outcome<int_result>> update(counter_actor c, update_op<int64_t> op) {
    return start<int_result>([=](auto* self, auto done) {
      self->request(c, caf::infinite, update_atom_v, op)
          .then([done](int64_t x) { done(int_result{x}); },
                [done](caf::error& e) { done(int_result{e}); });
    });
  }

  int64_t get(counter_actor c) {
    auto out = start<int64_t>([=](auto* self, auto done) {
      self->request(c, caf::infinite, get_atom_v).then([done](int64_t x) { done(x); });
    });
    run();
    BOOST_REQUIRE(out->done());
    return *out->value;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(serialized_suite, fixture)

BOOST_AUTO_TEST_CASE(counter_reaches_exactly_n_under_concurrent_async_updates) {
  constexpr int n = 50;
  auto c = make();
  std::vector<std::shared_ptr<outcome<int_result>>> outs;
  for (int i = 0; i < n; ++i)
    outs.push_back(update(c, async_increment(pause.actor)));
  run();
  advance(n * 10ms);
  BOOST_TEST(get(c) == n);
  for (int i = 0; i < n; ++i) {
    BOOST_REQUIRE(outs[i]->done());
    BOOST_TEST(outs[i]->value->value() == i + 1);
    BOOST_TEST(outs[i]->calls == 1);
  }
  BOOST_TEST(pause.counters->max_in_flight == 1u);
}

BOOST_AUTO_TEST_CASE(the_next_update_starts_only_after_the_current_commits) {
  auto c = make();
  auto a = update(c, async_increment(pause.actor));
  auto b = update(c, async_increment(pause.actor));
  run();
  BOOST_TEST(pause.counters->calls == 1u);
  advance(9ms);
  BOOST_TEST(!a->done());
  advance(1ms);
  BOOST_TEST(a->value->value() == 1);
  BOOST_TEST(pause.counters->calls == 2u);
  BOOST_TEST(!b->done());
  advance(10ms);
  BOOST_TEST(b->value->value() == 2);
  BOOST_TEST(ms(b->at - a->at) == 10);
}

BOOST_AUTO_TEST_CASE(get_answers_the_committed_value_at_once) {
  auto c = make({41});
  auto a = update(c, async_increment(pause.actor));
  run();
  BOOST_TEST(get(c) == 41);
  advance(10ms);
  BOOST_TEST(get(c) == 42);
}

BOOST_AUTO_TEST_CASE(a_failed_update_leaves_the_value_and_the_queue_goes_on) {
  auto c = make({10});
  auto a = update(c, update_op<int64_t>::apply([](int64_t v) { return v * 2; }));
  auto b =
      update(c, {[](caf::event_based_actor*, const int64_t&, commit_fn<int64_t> commit) {
               commit(caf::make_error(error::cancelled, "nope"));
             }});
  auto d = update(c, async_increment(pause.actor));
  run();
  advance(10ms);
  BOOST_TEST(a->value->value() == 20);
  BOOST_TEST(b->value->error() == error::cancelled);
  BOOST_TEST(d->value->value() == 21);
  BOOST_TEST(get(c) == 21);
}

BOOST_AUTO_TEST_CASE(an_op_timeout_near_the_maximum_means_no_limit) {
  serialized_config<int64_t> cfg;
  cfg.op_timeout = caf::timespan::max() - caf::timespan{1};
  auto c = make(cfg);
  auto slow = echo(1h);
  auto out = update(
      c, {[s = slow.actor](caf::event_based_actor* self, const int64_t&,
                           commit_fn<int64_t> commit) {
        self->request(s, caf::infinite, ask_atom_v, int64_t{7}).then([=](int64_t x) {
          commit(x);
        });
      }});
  run();
  advance(1h);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == 7);
}

BOOST_AUTO_TEST_CASE(a_slow_update_times_out_and_its_late_commit_is_ignored) {
  serialized_config<int64_t> cfg;
  cfg.op_timeout = 50ms;
  auto c = make(cfg);
  auto slow = echo(200ms);
  auto stuck =
      update(c, {[s = slow.actor](caf::event_based_actor* self, const int64_t&,
                                  commit_fn<int64_t> commit) {
               self->request(s, std::chrono::seconds(10), ask_atom_v, int64_t{100})
                   .then([=](int64_t x) { commit(x); });
             }});
  auto next = update(c, async_increment(pause.actor));
  run();
  advance(49ms);
  BOOST_TEST(!stuck->done());
  advance(1ms);
  BOOST_REQUIRE(stuck->done());
  BOOST_TEST(stuck->value->error() == caf::sec::request_timeout);
  advance(10ms);
  BOOST_TEST(next->value->value() == 1);
  advance(200ms);
  BOOST_TEST(get(c) == 1);
  BOOST_TEST(stuck->calls == 1);
}

BOOST_AUTO_TEST_CASE(updates_share_one_timer_and_each_times_out_on_its_own_start) {
  // A latch holds every (ask_atom, x) until it gets (done_atom), so the
  // updates stay running without any timer of their own.
  auto latch = spawn([](caf::event_based_actor* self) -> caf::behavior {
    auto held = std::make_shared<std::vector<caf::response_promise>>();
    return {
        [=](ask_atom, int64_t) {
          held->push_back(self->make_response_promise());
          return held->back();
        },
        [=](done_atom) {
          for (auto& rp : *held)
            rp.deliver(int64_t{0});
          held->clear();
        },
    };
  });
  serialized_config<int64_t> cfg;
  cfg.op_timeout = 50ms;
  auto c = make(cfg);
  auto op = update_op<int64_t>{
      [latch](caf::event_based_actor* self, const int64_t& v, commit_fn<int64_t> commit) {
        self->request(latch, caf::infinite, ask_atom_v, int64_t{0}).then([=](int64_t) {
          commit(v + 1);
        });
      }};
  std::vector<std::shared_ptr<outcome<int_result>>> xs;
  for (int i = 0; i < 6; ++i)
    xs.push_back(update(c, op));
  run();
  auto pending = [&] { return sched.clock().schedule().size(); };
  BOOST_TEST(pending() == 1u);
  auto start = now();
  for (int i = 0; i < 5; ++i) {
    advance(20ms);
    caf::anon_send(latch, done_atom_v);
    run();
    BOOST_REQUIRE(xs[i]->done());
    BOOST_TEST(xs[i]->value->value() == i + 1);
    BOOST_TEST(pending() == 1u);
  }
  // The last one started at 100 ms and is never released.
  advance(49ms);
  BOOST_TEST(!xs[5]->done());
  advance(1ms);
  BOOST_REQUIRE(xs[5]->done());
  BOOST_TEST(xs[5]->value->error() == caf::sec::request_timeout);
  BOOST_TEST((xs[5]->at - start == 150ms));
  BOOST_TEST(pending() == 0u);
  BOOST_TEST(get(c) == 5);
}

BOOST_AUTO_TEST_CASE(a_throwing_update_fails_alone_and_the_actor_survives) {
  auto c = make({5});
  auto bad = update(c, update_op<int64_t>::apply(
                           [](int64_t) -> int64_t { throw std::runtime_error("boom"); }));
  auto good = update(c, update_op<int64_t>::apply([](int64_t v) { return v + 1; }));
  run();
  BOOST_TEST(bad->value->error() == caf::sec::runtime_error);
  BOOST_TEST(good->value->value() == 6);
}

BOOST_AUTO_TEST_CASE(an_update_throwing_anything_fails_alone) {
  auto c = make({5});
  auto bad = update(c, update_op<int64_t>::apply([](int64_t) -> int64_t { throw 42; }));
  auto good = update(c, update_op<int64_t>::apply([](int64_t v) { return v + 1; }));
  run();
  BOOST_TEST(bad->value->error() == caf::sec::runtime_error);
  BOOST_TEST(good->value->value() == 6);
}

BOOST_AUTO_TEST_CASE(a_guarded_continuation_that_throws_fails_only_its_update) {
  auto c = make({5});
  update_op<int64_t> bad{[p = pause.actor](caf::event_based_actor* self, const int64_t& v,
                                           commit_fn<int64_t> commit) {
    self->request(p, std::chrono::seconds(1), ask_atom_v, v)
        .then(guarded(commit, [](int64_t) { throw std::runtime_error("late boom"); }),
              [=](caf::error& e) { commit(e); });
  }};
  auto a = update(c, bad);
  auto b = update(c, async_increment(pause.actor));
  run();
  advance(20ms);
  BOOST_REQUIRE(a->done());
  BOOST_TEST(a->value->error() == caf::sec::runtime_error);
  BOOST_REQUIRE(b->done());
  BOOST_TEST(b->value->value() == 6);
  BOOST_TEST(get(c) == 6);
}

BOOST_AUTO_TEST_CASE(full_queue_and_empty_update_are_refused) {
  serialized_config<int64_t> cfg;
  cfg.max_queued = 2;
  auto c = make(cfg);
  auto a = update(c, async_increment(pause.actor));
  auto b = update(c, async_increment(pause.actor));
  auto d = update(c, async_increment(pause.actor));
  auto e = update(c, update_op<int64_t>{});
  run();
  BOOST_TEST(d->value->error() == error::overloaded);
  BOOST_TEST(e->value->error() == error::invalid_config);
  advance(20ms);
  BOOST_TEST(b->value->value() == 2);
}

BOOST_AUTO_TEST_CASE(exit_answers_the_running_and_every_queued_update) {
  auto c = make();
  auto a = update(c, async_increment(pause.actor));
  auto b = update(c, async_increment(pause.actor));
  run();
  caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
  run();
  BOOST_REQUIRE(a->done());
  BOOST_REQUIRE(b->done());
  BOOST_TEST(a->value->error() == error::shut_down);
  BOOST_TEST(b->value->error() == error::shut_down);
  advance(1s);
  BOOST_TEST(a->calls == 1);
}

BOOST_AUTO_TEST_CASE(invalid_config_is_refused_naming_the_field) {
  serialized_config<int64_t> cfg;
  cfg.op_timeout = caf::timespan::zero();
  auto c = spawn_serialized<int64_t>(sys, cfg);
  BOOST_REQUIRE(!c);
  BOOST_TEST(c.error() == error::invalid_config);
  BOOST_TEST(sys.render(c.error()).find("op_timeout") != std::string::npos);
  serialized_config<int64_t> cfg2;
  cfg2.max_queued = 0;
  BOOST_TEST(spawn_serialized<int64_t>(sys, cfg2).error() == error::invalid_config);
}

BOOST_FIXTURE_TEST_CASE(stress_thousand_concurrent_async_increments, real_time_fixture) {
  constexpr int n = 1000;
  auto c = spawn_serialized<int64_t>(sys, {});
  BOOST_REQUIRE(c);
  auto pause = sys.spawn(
      []() -> caf::behavior { return {[](ask_atom, int64_t x) { return x; }}; });
  completion_counter finished;
  std::atomic<int> ok{0};
  auto hdl = *c;
  for (int i = 0; i < n; ++i)
    sys.spawn([=, &finished, &ok](caf::event_based_actor* self) {
      self->request(hdl, std::chrono::seconds(60), update_atom_v, async_increment(pause))
          .then(
              [&](int64_t) {
                ++ok;
                finished.add();
              },
              [&](caf::error&) { finished.add(); });
    });
  BOOST_REQUIRE(finished.wait_for(n, std::chrono::seconds(60)));
  BOOST_TEST(ok.load() == n);
  caf::scoped_actor self{sys};
  self->request(hdl, caf::infinite, get_atom_v)
      .receive([&](int64_t v) { BOOST_TEST(v == n); },
               [&](caf::error& e) { BOOST_FAIL(to_string(e)); });
  self->send_exit(hdl, caf::exit_reason::user_shutdown);
  self->send_exit(pause, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(an_update_committing_an_empty_error_fails_its_caller) {
  auto c = make();
  update_op<int64_t> blank{
      [](caf::event_based_actor*, const int64_t&, commit_fn<int64_t> commit) {
        commit(caf::expected<int64_t>{caf::error{}});
      }};
  auto out = update(c, blank);
  run();
  BOOST_REQUIRE(out->done());
  BOOST_REQUIRE(!*out->value);
  BOOST_TEST(out->value->error() == caf::sec::runtime_error);
  BOOST_TEST(get(c) == 0);
}

BOOST_AUTO_TEST_SUITE_END()
