#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/actors/mutex.hpp>

#include "fixtures/real_time.hpp"
#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;

namespace {

using lease_result = caf::expected<lease>;

struct fixture : virtual_time_fixture {
  mutex_actor mtx;
  std::vector<caf::actor> own;

  fixture() { mtx = make({}); }

  ~fixture() {
    for (auto& hdl : own)
      caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  }

  mutex_actor make(mutex_config c) {
    auto m = spawn_mutex(sys, c);
    BOOST_REQUIRE(m);
    own.push_back(caf::actor_cast<caf::actor>(*m));
    return *m;
  }

  /// A client that acquires `m` and keeps the lease (it stays alive).
  std::shared_ptr<outcome<lease_result>>
  acquire(mutex_actor m, caf::timespan wait = no_limit, caf::timespan hold = no_limit) {
    return start<lease_result>([=](auto* self, auto done) {
      self->request(m, caf::infinite, acquire_atom_v, wait, hold)
          .then([done](lease l) { done(lease_result{l}); },
                [done](caf::error& e) { done(lease_result{e}); });
    });
  }

  std::shared_ptr<outcome<lease_result>> acquire(caf::timespan wait = no_limit,
                                                 caf::timespan hold = no_limit) {
    return acquire(mtx, wait, hold);
  }

  std::shared_ptr<outcome<lease_result>> try_acquire() {
    auto m = mtx;
    return start<lease_result>([=](auto* self, auto done) {
      self->request(m, caf::infinite, try_acquire_atom_v)
          .then([done](lease l) { done(lease_result{l}); },
                [done](caf::error& e) { done(lease_result{e}); });
    });
  }

  /// Sends `xs...` to `m` (the fixture's mutex if null) from a separate
  /// actor and returns the answer to a void request: no error on success.
  template <class... Ts>
  caf::error ask_void(mutex_actor m, Ts... xs) {
    if (!m)
      m = mtx;
    auto out = start<caf::error>([=](auto* self, auto done) {
      self->request(m, caf::infinite, xs...)
          .then([done]() { done(caf::error{}); }, [done](caf::error& e) { done(e); });
    });
    run();
    BOOST_REQUIRE(out->done());
    return *out->value;
  }

  /// Releases `l` and returns the answer.
  caf::error release(lease l, mutex_actor m = {}) {
    return ask_void(m, release_atom_v, l);
  }

  mutex_stats stats(mutex_actor m = {}) {
    if (!m)
      m = mtx;
    auto out = start<mutex_stats>([=](auto* self, auto done) {
      self->request(m, caf::infinite, stats_atom_v).then([done](mutex_stats s) {
        done(s);
      });
    });
    run();
    BOOST_REQUIRE(out->done());
    return *out->value;
  }

  /// Sends (subscribe_atom or unsubscribe_atom, who) and returns the answer.
  template <class Atom>
  caf::error subscription(Atom atom, caf::actor who, mutex_actor m = {}) {
    return ask_void(m, atom, who);
  }

  static lease held(const std::shared_ptr<outcome<lease_result>>& x) {
    BOOST_REQUIRE(x->done());
    BOOST_REQUIRE(static_cast<bool>(*x->value));
    return **x->value;
  }
};

/// A resource that accepts a write only with a fencing token at least as high
/// as the highest it has seen.
caf::behavior fenced_store(caf::event_based_actor*, std::shared_ptr<int64_t> value) {
  auto highest = std::make_shared<uint64_t>(0);
  return {[=](put_atom, uint64_t token, int64_t x) -> caf::result<int64_t> {
    if (token < *highest)
      return caf::make_error(error::not_owner, "stale fencing token");
    *highest = token;
    *value = x;
    return x;
  }};
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(mutex_suite, fixture)

BOOST_AUTO_TEST_CASE(uncontended_acquire_is_granted_at_once_to_the_sender) {
  auto a = acquire();
  run();
  auto l = held(a);
  BOOST_TEST(l.token == 1u);
  BOOST_TEST((l.holder == a->client.address()));
  auto s = stats();
  BOOST_TEST(s.token == 1u);
  BOOST_TEST((s.holder == a->client.address()));
  BOOST_TEST(s.grants == 1u);
}

BOOST_AUTO_TEST_CASE(waiters_are_granted_in_fifo_order) {
  auto a = acquire();
  run();
  std::vector<std::shared_ptr<outcome<lease_result>>> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.push_back(acquire());
    run();
  }
  BOOST_TEST(stats().queued == 4u);
  auto current = held(a);
  for (size_t i = 0; i < waiters.size(); ++i) {
    for (size_t j = i; j < waiters.size(); ++j)
      BOOST_TEST(!waiters[j]->done());
    BOOST_TEST(!release(current));
    current = held(waiters[i]);
    BOOST_TEST(current.token == i + 2);
    BOOST_TEST((current.holder == waiters[i]->client.address()));
  }
  BOOST_TEST(!release(current));
  BOOST_TEST(stats().token == 0u);
  BOOST_TEST(stats().releases == 5u);
}

BOOST_AUTO_TEST_CASE(try_acquire_answers_at_once_and_never_queues) {
  auto a = try_acquire();
  run();
  auto l = held(a);
  auto b = try_acquire();
  run();
  BOOST_REQUIRE(b->done());
  BOOST_TEST(b->value->error() == caf::sec::request_timeout);
  BOOST_TEST(stats().queued == 0u);
  BOOST_TEST(!release(l));
  auto c = try_acquire();
  run();
  BOOST_TEST(held(c).token == 2u);
}

BOOST_AUTO_TEST_CASE(try_acquire_does_not_jump_the_queue) {
  auto a = acquire();
  run();
  auto waiting = acquire();
  run();
  auto t = try_acquire();
  run();
  BOOST_TEST(t->value->error() == caf::sec::request_timeout);
  BOOST_TEST(!release(held(a)));
  BOOST_TEST(held(waiting).token == 2u);
}

BOOST_AUTO_TEST_CASE(wait_timeout_answers_at_the_exact_time_and_removes_the_waiter) {
  auto a = acquire();
  run();
  auto b = acquire(50ms);
  run();
  advance(49ms);
  BOOST_TEST(!b->done());
  advance(1ms);
  BOOST_REQUIRE(b->done());
  BOOST_TEST(b->value->error() == caf::sec::request_timeout);
  BOOST_TEST(ms(elapsed()) == 50);
  BOOST_TEST(stats().queued == 0u);
  BOOST_TEST(!release(held(a)));
  advance(1s);
  BOOST_TEST(b->calls == 1);
  auto s = stats();
  BOOST_TEST(s.token == 0u);
  BOOST_TEST(s.wait_timeouts == 1u);
  BOOST_TEST(s.grants == 1u);
}

BOOST_AUTO_TEST_CASE(waits_and_holds_near_the_maximum_mean_no_limit) {
  auto almost = caf::timespan::max() - caf::timespan{1};
  auto a = acquire(no_limit, almost);
  run();
  auto b = acquire(almost);
  run();
  advance(24h);
  BOOST_TEST(!b->done());
  BOOST_TEST(stats().expiries == 0u);
  BOOST_TEST(stats().wait_timeouts == 0u);
  BOOST_TEST(!release(held(a)));
  run();
  BOOST_TEST(b->done());
  BOOST_TEST(held(b).token != 0u);
}

BOOST_AUTO_TEST_CASE(timer_messages_from_other_actors_change_nothing) {
  // A timer is pending for both deadlines; spoofed ones, whatever their
  // number, neither revoke the lease, nor end the wait, nor arm a timer.
  auto a = acquire(no_limit, 1h);
  run();
  auto b = acquire(1h);
  run();
  auto token = held(a).token;
  auto pending = sched.clock().schedule().size();
  auto hdl = caf::actor_cast<caf::actor>(mtx);
  for (uint64_t seq = 0; seq < 4; ++seq)
    caf::anon_send(hdl, expire_atom_v, seq);
  run();
  BOOST_TEST(sched.clock().schedule().size() == pending);
  BOOST_TEST(!b->done());
  auto s = stats();
  BOOST_TEST(s.token == token);
  BOOST_TEST((s.holder == a->client.address()));
  BOOST_TEST(s.queued == 1u);
  BOOST_TEST(s.expiries == 0u);
  BOOST_TEST(s.wait_timeouts == 0u);
}

BOOST_AUTO_TEST_CASE(one_timer_serves_every_wait_and_hold_limit) {
  auto pending = [&] { return sched.clock().schedule().size(); };
  std::vector<std::shared_ptr<outcome<lease_result>>> xs;
  for (int i = 0; i < 20; ++i) {
    xs.push_back(acquire(1h, 1h));
    run();
    BOOST_TEST(pending() == 1u);
  }
  for (auto& x : xs) {
    advance(1min);
    BOOST_TEST(!release(held(x)));
    BOOST_TEST(pending() == 1u);
  }
  // The timer finds nothing due and none is armed again.
  advance(1h);
  BOOST_TEST(pending() == 0u);
  auto s = stats();
  BOOST_TEST(s.grants == 20u);
  BOOST_TEST(s.releases == 20u);
  BOOST_TEST(s.expiries == 0u);
  BOOST_TEST(s.wait_timeouts == 0u);
}

BOOST_AUTO_TEST_CASE(each_deadline_fires_at_its_own_time_whatever_the_order) {
  auto a = acquire(no_limit, 50ms);
  run();
  auto b = acquire(1s);
  run();
  auto c = acquire(10ms);
  run();
  auto d = acquire(30ms);
  run();
  auto start = now();
  advance(2s);
  BOOST_TEST(c->value->error() == caf::sec::request_timeout);
  BOOST_TEST((c->at - start == 10ms));
  BOOST_TEST(d->value->error() == caf::sec::request_timeout);
  BOOST_TEST((d->at - start == 30ms));
  // a's lease is revoked at 50 ms and b, still waiting, gets the lock.
  BOOST_TEST(held(b).token == 2u);
  BOOST_TEST((b->at - start == 50ms));
  auto s = stats();
  BOOST_TEST(s.expiries == 1u);
  BOOST_TEST(s.wait_timeouts == 2u);
}

BOOST_AUTO_TEST_CASE(subscribers_hear_of_revoked_leases_and_dead_holders) {
  auto events = std::make_shared<std::vector<mutex_event>>();
  auto listener = spawn([events](caf::event_based_actor*) -> caf::behavior {
    return {[events](mutex_event& ev) { events->push_back(std::move(ev)); }};
  });
  BOOST_TEST(!subscription(subscribe_atom_v, listener));
  auto a = acquire(no_limit, 10ms);
  run();
  auto b = acquire();
  run();
  auto c = acquire();
  run();
  advance(10ms);
  BOOST_REQUIRE(events->size() == 1u);
  auto& revoked = (*events)[0];
  BOOST_TEST(to_string(revoked.kind) == "lease_revoked");
  BOOST_TEST(revoked.token == 1u);
  BOOST_TEST((revoked.holder == a->client.address()));
  BOOST_TEST(revoked.next_token == 2u);
  BOOST_TEST(revoked.queued == 1u);
  kill(b->client);
  BOOST_REQUIRE(events->size() == 2u);
  auto& died = (*events)[1];
  BOOST_TEST(to_string(died.kind) == "holder_died");
  BOOST_TEST(died.token == 2u);
  BOOST_TEST((died.holder == b->client.address()));
  BOOST_TEST(died.next_token == 3u);
  BOOST_TEST(died.queued == 0u);
  BOOST_TEST(died.reason.find("kill") != std::string::npos);
  // A plain release is not an event, and after unsubscribing nothing comes.
  BOOST_TEST(!release(held(c)));
  BOOST_TEST(!subscription(unsubscribe_atom_v, listener));
  auto d = acquire(no_limit, 10ms);
  run();
  advance(10ms);
  BOOST_TEST(stats().expiries == 2u);
  BOOST_TEST(events->size() == 2u);
}

BOOST_AUTO_TEST_CASE(mutex_subscriptions_are_bounded_and_dead_subscribers_dropped) {
  mutex_config cfg;
  cfg.max_subscribers = 1;
  auto m = make(cfg);
  auto quiet = [](caf::event_based_actor*) -> caf::behavior {
    return {[](mutex_event&) {}};
  };
  auto a = spawn(quiet);
  auto b = spawn(quiet);
  BOOST_TEST(!subscription(subscribe_atom_v, a, m));
  BOOST_TEST(!subscription(subscribe_atom_v, a, m));
  BOOST_TEST(subscription(subscribe_atom_v, b, m) == error::overloaded);
  BOOST_TEST(subscription(subscribe_atom_v, caf::actor{}, m) == error::invalid_config);
  kill(a);
  BOOST_TEST(!subscription(subscribe_atom_v, b, m));
  cfg.max_subscribers = 0;
  auto bad = spawn_mutex(sys, cfg);
  BOOST_REQUIRE(!bad);
  BOOST_TEST(sys.render(bad.error()).find("max_subscribers") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_timed_out_waiter_lets_the_next_one_through) {
  auto a = acquire();
  run();
  auto b = acquire(10ms);
  run();
  auto c = acquire();
  run();
  advance(10ms);
  BOOST_TEST(b->value->error() == caf::sec::request_timeout);
  BOOST_TEST(!release(held(a)));
  BOOST_TEST(held(c).token == 2u);
}

BOOST_AUTO_TEST_CASE(a_waiter_whose_wait_is_over_is_not_granted_before_its_timer_runs) {
  auto a = acquire();
  run();
  auto b = acquire(10ms);
  run();
  auto c = acquire();
  run();
  // The release is already in the mailbox when b's timer comes due, so the
  // mutex handles it first: b's wait is over all the same.
  caf::anon_send(caf::actor_cast<caf::actor>(mtx), release_atom_v, held(a));
  sched.advance_time(20ms);
  run();
  BOOST_REQUIRE(b->done());
  BOOST_REQUIRE(!static_cast<bool>(*b->value));
  BOOST_TEST(b->value->error() == caf::sec::request_timeout);
  BOOST_TEST(held(c).token == 2u);
  auto s = stats();
  BOOST_TEST(s.grants == 2u);
  BOOST_TEST(s.wait_timeouts == 1u);
  BOOST_TEST(s.queued == 0u);
}

BOOST_AUTO_TEST_CASE(short_waits_behind_a_long_lease_keep_two_timers_pending_at_most) {
  auto pending = [&] { return sched.clock().schedule().size(); };
  auto a = acquire(no_limit, 1h);
  run();
  for (int i = 0; i < 50; ++i) {
    auto w = acquire(10ms);
    run();
    BOOST_TEST(pending() <= 2u);
    advance(10ms);
    BOOST_REQUIRE(w->done());
    BOOST_REQUIRE(!static_cast<bool>(*w->value));
    BOOST_TEST(w->value->error() == caf::sec::request_timeout);
    BOOST_TEST(pending() == 1u);
  }
  // The timer pending all along revokes the lease at its exact time.
  advance(1h - 500ms - 1ms);
  BOOST_TEST(stats().expiries == 0u);
  advance(1ms);
  auto s = stats();
  BOOST_TEST(s.expiries == 1u);
  BOOST_TEST(s.wait_timeouts == 50u);
  BOOST_TEST(pending() == 0u);
  BOOST_TEST(held(a).token == 1u);
}

BOOST_AUTO_TEST_CASE(holder_death_releases_and_the_next_waiter_is_granted) {
  auto a = acquire();
  run();
  auto b = acquire();
  run();
  BOOST_TEST(!b->done());
  kill(a->client);
  run();
  auto l = held(b);
  BOOST_TEST(l.token == 2u);
  auto s = stats();
  BOOST_TEST(s.releases_by_death == 1u);
  BOOST_TEST((s.holder == b->client.address()));
}

BOOST_AUTO_TEST_CASE(holder_death_with_nobody_waiting_frees_the_lock) {
  auto a = acquire();
  run();
  kill(a->client);
  run();
  BOOST_TEST(stats().token == 0u);
  auto b = try_acquire();
  run();
  BOOST_TEST(held(b).token == 2u);
}

BOOST_AUTO_TEST_CASE(dead_waiters_are_dropped_from_the_queue) {
  auto a = acquire();
  run();
  auto b = acquire();
  run();
  auto c = acquire();
  run();
  kill(b->client);
  run();
  auto s = stats();
  BOOST_TEST(s.queued == 1u);
  BOOST_TEST(s.dead_waiters == 1u);
  BOOST_TEST(!release(held(a)));
  BOOST_TEST(held(c).token == 2u);
  BOOST_TEST(stats().grants == 2u);
}

BOOST_AUTO_TEST_CASE(a_dead_waiter_takes_its_deadline_along) {
  auto a = acquire();
  run();
  auto b = acquire(10ms);
  run();
  kill(b->client);
  advance(10ms);
  auto s = stats();
  BOOST_TEST(s.dead_waiters == 1u);
  BOOST_TEST(s.wait_timeouts == 0u);
  BOOST_TEST(s.queued == 0u);
  BOOST_TEST(sched.clock().schedule().empty());
  auto c = acquire(10ms);
  run();
  BOOST_TEST(!release(held(a)));
  BOOST_TEST(held(c).token == 2u);
}

BOOST_AUTO_TEST_CASE(a_lease_revoked_as_a_wait_ends_goes_to_that_waiter) {
  auto a = acquire(no_limit, 10ms);
  run();
  auto b = acquire(10ms);
  run();
  advance(10ms);
  BOOST_TEST(held(b).token == 2u);
  auto s = stats();
  BOOST_TEST(s.expiries == 1u);
  BOOST_TEST(s.wait_timeouts == 0u);
}

BOOST_AUTO_TEST_CASE(expired_lease_is_revoked_and_its_late_release_is_refused) {
  mutex_config c;
  c.max_hold = 100ms;
  auto m = make(c);
  auto a = acquire(m);
  run();
  auto b = acquire(m);
  run();
  advance(99ms);
  BOOST_TEST(!b->done());
  advance(1ms);
  auto lb = held(b);
  BOOST_TEST(lb.token == 2u);
  BOOST_TEST(release(held(a), m) == error::lease_expired);
  auto s = stats(m);
  BOOST_TEST(s.token == 2u);
  BOOST_TEST((s.holder == b->client.address()));
  BOOST_TEST(s.expiries == 1u);
  BOOST_TEST(!release(lb, m));
}

BOOST_AUTO_TEST_CASE(a_lease_can_ask_for_a_shorter_hold_than_the_config) {
  auto a = acquire(no_limit, 30ms);
  run();
  auto l = held(a);
  advance(30ms);
  BOOST_TEST(stats().token == 0u);
  BOOST_TEST(release(l) == error::lease_expired);
}

BOOST_AUTO_TEST_CASE(fencing_tokens_let_a_resource_reject_a_stale_holder) {
  mutex_config c;
  c.max_hold = 50ms;
  auto m = make(c);
  auto value = std::make_shared<int64_t>(0);
  auto store = spawn(fenced_store, value);
  auto write = [&](lease l, int64_t x) {
    auto out = start<caf::expected<int64_t>>([=](auto* self, auto done) {
      self->request(store, caf::infinite, put_atom_v, l.token, x)
          .then([done](int64_t y) { done(caf::expected<int64_t>{y}); },
                [done](caf::error& e) { done(caf::expected<int64_t>{e}); });
    });
    run();
    return *out->value;
  };
  auto a = acquire(m);
  run();
  auto b = acquire(m);
  run();
  auto la = held(a);
  // a stalls past its hold time; b gets the lock and writes.
  advance(50ms);
  auto lb = held(b);
  BOOST_TEST(write(lb, 2).value() == 2);
  // a wakes up and writes with its stale token: refused.
  BOOST_TEST(write(la, 1).error() == error::not_owner);
  BOOST_TEST(*value == 2);
}

BOOST_AUTO_TEST_CASE(foreign_stale_and_double_releases_answer_not_owner) {
  auto a = acquire();
  run();
  auto l = held(a);
  lease foreign{99, l.holder, l.mutex};
  BOOST_TEST(release(foreign) == error::not_owner);
  lease wrong_holder{l.token, caf::actor_addr{}, l.mutex};
  BOOST_TEST(release(wrong_holder) == error::not_owner);
  BOOST_TEST(stats().token == l.token);
  auto b = acquire();
  run();
  BOOST_TEST(!release(l));
  BOOST_TEST(release(l) == error::not_owner);
  BOOST_TEST((stats().holder == b->client.address()));
  BOOST_TEST(stats().releases == 1u);
}

BOOST_AUTO_TEST_CASE(full_queue_answers_overloaded) {
  mutex_config c;
  c.max_waiters = 2;
  auto m = make(c);
  auto a = acquire(m);
  run();
  auto b = acquire(m), d = acquire(m);
  run();
  auto e = acquire(m);
  run();
  BOOST_REQUIRE(e->done());
  BOOST_TEST(e->value->error() == error::overloaded);
  BOOST_TEST(!b->done());
  BOOST_TEST(!d->done());
}

BOOST_AUTO_TEST_CASE(invalid_config_and_arguments_are_refused) {
  mutex_config c;
  c.max_hold = caf::timespan::zero();
  auto m = spawn_mutex(sys, c);
  BOOST_REQUIRE(!m);
  BOOST_TEST(m.error() == error::invalid_config);
  BOOST_TEST(sys.render(m.error()).find("max_hold") != std::string::npos);
  mutex_config d;
  d.max_waiters = 0;
  BOOST_TEST(spawn_mutex(sys, d).error() == error::invalid_config);
  auto bad_hold = acquire(no_limit, caf::timespan::zero());
  auto bad_wait = acquire(-1ms);
  run();
  BOOST_TEST(bad_hold->value->error() == error::invalid_config);
  BOOST_TEST(bad_wait->value->error() == error::invalid_config);
  BOOST_TEST(stats().grants == 0u);
}

BOOST_AUTO_TEST_CASE(mutex_exit_answers_every_waiter) {
  auto a = acquire();
  run();
  auto b = acquire(), c = acquire(1s);
  run();
  caf::anon_send_exit(mtx, caf::exit_reason::user_shutdown);
  run();
  BOOST_REQUIRE(b->done());
  BOOST_REQUIRE(c->done());
  BOOST_TEST(b->value->error() == error::shut_down);
  BOOST_TEST(c->value->error() == error::shut_down);
  advance(2s);
  BOOST_TEST(c->calls == 1);
}

// The lesson's race fixed with the mutex, on the real scheduler: 1,000
// clients each read a counter, write it back plus one under the lock, and
// release. The count is exact and every client is answered once.
BOOST_FIXTURE_TEST_CASE(stress_thousand_clients_count_exactly, real_time_fixture) {
  constexpr int n = 1000;
  auto m = spawn_mutex(sys, {});
  BOOST_REQUIRE(m);
  auto counter = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    auto value = std::make_shared<int64_t>(0);
    return {[=](get_atom) { return *value; }, [=](put_atom, int64_t x) { *value = x; }};
  });
  auto answers = std::make_shared<std::atomic<int>>(0);
  auto failures = std::make_shared<std::atomic<int>>(0);
  completion_counter finished;
  auto mtx = *m;
  for (int i = 0; i < n; ++i) {
    sys.spawn([=, &finished](caf::event_based_actor* self) {
      self->request(mtx, std::chrono::seconds(60), acquire_atom_v, no_limit, no_limit)
          .then(
              [=, &finished](lease l) {
                ++*answers;
                self->request(counter, std::chrono::seconds(60), get_atom_v)
                    .then([=, &finished](int64_t v) {
                      self->request(counter, std::chrono::seconds(60), put_atom_v, v + 1)
                          .then([=, &finished]() {
                            self->request(mtx, std::chrono::seconds(60), release_atom_v,
                                          l)
                                .then([=, &finished]() { finished.add(); },
                                      [=, &finished](caf::error&) {
                                        ++*failures;
                                        finished.add();
                                      });
                          });
                    });
              },
              [=, &finished](caf::error&) {
                ++*answers;
                ++*failures;
                finished.add();
              });
    });
  }
  BOOST_REQUIRE(finished.wait_for(n, std::chrono::seconds(60)));
  BOOST_TEST(answers->load() == n);
  BOOST_TEST(failures->load() == 0);
  caf::scoped_actor self{sys};
  self->request(counter, caf::infinite, get_atom_v)
      .receive([&](int64_t v) { BOOST_TEST(v == n); },
               [&](caf::error& e) { BOOST_FAIL(to_string(e)); });
  self->request(mtx, caf::infinite, stats_atom_v)
      .receive(
          [&](mutex_stats s) {
            BOOST_TEST(s.grants == static_cast<uint64_t>(n));
            BOOST_TEST(s.releases == static_cast<uint64_t>(n));
            BOOST_TEST(s.token == 0u);
          },
          [&](caf::error& e) { BOOST_FAIL(to_string(e)); });
  self->send_exit(mtx, caf::exit_reason::user_shutdown);
  self->send_exit(counter, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_lease_of_another_mutex_releases_nothing) {
  // One actor holds two mutexes, both with token 1: the lease of the first
  // does not release the second.
  auto m2 = make({});
  auto m1 = mtx;
  auto out = start<caf::error>([=](auto* self, auto done) {
    self->request(m1, caf::infinite, acquire_atom_v, no_limit, no_limit)
        .then([=](lease l1) {
          self->request(m2, caf::infinite, acquire_atom_v, no_limit, no_limit)
              .then([=](lease l2) {
                BOOST_TEST(l1.token == l2.token);
                BOOST_TEST((l1.holder == l2.holder));
                self->request(m2, caf::infinite, release_atom_v, l1)
                    .then([=]() { done(caf::error{}); }, [=](caf::error& e) { done(e); });
              });
        });
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(*out->value == error::not_owner);
  BOOST_TEST(stats(m2).token == 1u);
  BOOST_TEST(stats(m2).releases == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
