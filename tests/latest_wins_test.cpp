#include <boost/test/unit_test.hpp>

#include <stdexcept>
#include <unordered_map>

#include <caf/all.hpp>

#include <actorkit/actors/latest_wins.hpp>

#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;
using actorkit::testing::reaction;

namespace {

using str_result = caf::expected<std::string>;
using gate_actor = latest_wins_actor<std::string>;

/// A search worker: answers (ask_atom, q) with "hits for q" after `latency`;
/// (cancel_atom, key) answers every parked search `error::cancelled`.
struct search_counters {
  int calls = 0;
  int cancels = 0;
  int spawned = 0;
};

caf::behavior search_impl(caf::event_based_actor* self, caf::timespan latency,
                          std::shared_ptr<search_counters> counters,
                          bool answer_cancelled) {
  auto parked = std::make_shared<
      std::unordered_map<uint64_t, std::pair<caf::response_promise, std::string>>>();
  auto next = std::make_shared<uint64_t>(0);
  ++counters->spawned;
  self->attach_functor([parked](const caf::error& reason) {
    for (auto& kvp : *parked)
      kvp.second.first.deliver(reason);
  });
  return {
      [=](ask_atom, std::string& q) {
        ++counters->calls;
        auto id = (*next)++;
        parked->emplace(id, std::make_pair(self->make_response_promise(), q));
        self->delayed_send(self, latency, tick_atom_v, id);
      },
      [=](tick_atom, uint64_t id) {
        auto i = parked->find(id);
        if (i == parked->end())
          return;
        i->second.first.deliver("hits for " + i->second.second);
        parked->erase(i);
      },
      [=](cancel_atom, const std::string&) {
        ++counters->cancels;
        if (!answer_cancelled)
          return;
        for (auto& kvp : *parked)
          kvp.second.first.deliver(caf::make_error(error::cancelled));
        parked->clear();
      },
  };
}

struct fixture : virtual_time_fixture {
  std::vector<caf::actor> own;
  std::shared_ptr<search_counters> counters = std::make_shared<search_counters>();
  caf::actor worker;

  fixture() { worker = spawn(search_impl, caf::timespan{100ms}, counters, true); }

  ~fixture() {
    for (auto& hdl : own)
      caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  }

  gate_actor make(latest_wins_config c) {
    auto g = spawn_latest_wins<std::string>(sys, c);
    BOOST_REQUIRE(g);
    own.push_back(caf::actor_cast<caf::actor>(*g));
    return *g;
  }

  gate_actor make_default(stale_policy p = stale_policy::discard,
                          size_t max_in_flight = 64) {
    latest_wins_config c;
    c.worker = worker;
    c.policy = p;
    c.max_in_flight = max_in_flight;
    return make(c);
  }

  std::function<caf::actor(caf::actor_system&)> factory(caf::timespan latency = 100ms) {
    auto cs = counters;
    return [cs, latency](caf::actor_system& s) {
      return s.spawn(search_impl, latency, cs, true);
    };
  }

  std::shared_ptr<outcome<str_result>> search(gate_actor g, std::string key,
                                              std::string q) {
    return start<str_result>([=](auto* self, auto done) {
      self->request(g, caf::infinite, submit_atom_v, key,
                    caf::make_message(ask_atom_v, q))
          .then([done](std::string& x) { done(str_result{x}); },
                [done](caf::error& e) { done(str_result{e}); });
    });
  }

  /// Sends (subscribe_atom or unsubscribe_atom, who) and returns the answer.
  template <class Atom>
  caf::error subscription(gate_actor g, Atom atom, caf::actor who) {
    auto out = start<caf::error>([=](auto* self, auto done) {
      self->request(g, caf::infinite, atom, who)
          .then([done]() { done(caf::error{}); }, [done](caf::error& e) { done(e); });
    });
    run();
    BOOST_REQUIRE(out->done());
    return *out->value;
  }

  latest_wins_stats stats(gate_actor g) {
    auto out = start<latest_wins_stats>([=](auto* self, auto done) {
      self->request(g, caf::infinite, stats_atom_v).then([done](latest_wins_stats s) {
        done(s);
      });
    });
    run();
    BOOST_REQUIRE(out->done());
    return *out->value;
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(latest_wins_suite, fixture)

BOOST_AUTO_TEST_CASE(superseded_callers_are_answered_at_once_not_when_their_work_ends) {
  auto g = make_default();
  auto a = search(g, "q", "a");
  run();
  advance(10ms);
  auto ab = search(g, "q", "ab");
  run();
  BOOST_REQUIRE(a->done());
  BOOST_TEST(a->value->error() == error::superseded);
  BOOST_TEST(ms(a->at - sys.clock().now()) == 0);
  BOOST_TEST(ms(elapsed()) == 10);
  advance(10ms);
  auto abc = search(g, "q", "abc");
  run();
  BOOST_TEST(ab->value->error() == error::superseded);
  BOOST_TEST(ms(elapsed()) == 20);
  BOOST_TEST(!abc->done());
  advance(100ms);
  BOOST_REQUIRE(abc->done());
  BOOST_TEST(abc->value->value() == "hits for abc");
  BOOST_TEST(ms(elapsed()) == 120);
}

BOOST_AUTO_TEST_CASE(only_the_newest_completes_and_stale_results_are_discarded) {
  auto g = make_default();
  auto a = search(g, "q", "a");
  auto ab = search(g, "q", "ab");
  auto abc = search(g, "q", "abc");
  run();
  advance(200ms);
  BOOST_TEST(a->value->error() == error::superseded);
  BOOST_TEST(ab->value->error() == error::superseded);
  BOOST_TEST(abc->value->value() == "hits for abc");
  BOOST_TEST(a->calls == 1);
  BOOST_TEST(ab->calls == 1);
  auto s = stats(g);
  BOOST_TEST(counters->calls == 3);
  BOOST_TEST(s.submitted == 3u);
  BOOST_TEST(s.completed == 1u);
  BOOST_TEST(s.superseded == 2u);
  BOOST_TEST(s.stale_discarded == 2u);
  BOOST_TEST(s.in_flight == 0u);
  BOOST_TEST(s.keys == 0u);
}

BOOST_AUTO_TEST_CASE(queued_older_requests_are_dropped_before_they_run) {
  auto g = make_default(stale_policy::discard, 1);
  auto a = search(g, "q", "a");
  run();
  auto ab = search(g, "q", "ab");
  run();
  BOOST_TEST(stats(g).queued == 1u);
  auto abc = search(g, "q", "abc");
  run();
  BOOST_TEST(ab->value->error() == error::superseded);
  BOOST_TEST(a->value->error() == error::superseded);
  advance(100ms);
  BOOST_TEST(counters->calls == 2);
  BOOST_TEST(!abc->done());
  advance(100ms);
  BOOST_TEST(abc->value->value() == "hits for abc");
  auto s = stats(g);
  BOOST_TEST(s.dropped_before_run == 1u);
  BOOST_TEST(s.stale_discarded == 1u);
}

BOOST_AUTO_TEST_CASE(keys_are_independent) {
  auto g = make_default();
  auto x1 = search(g, "x", "x1");
  auto y1 = search(g, "y", "y1");
  auto x2 = search(g, "x", "x2");
  run();
  BOOST_TEST(x1->value->error() == error::superseded);
  BOOST_TEST(!y1->done());
  advance(100ms);
  BOOST_TEST(y1->value->value() == "hits for y1");
  BOOST_TEST(x2->value->value() == "hits for x2");
  BOOST_TEST(stats(g).superseded == 1u);
}

BOOST_AUTO_TEST_CASE(cancel_mode_cancels_stale_work_and_frees_its_slot) {
  auto g = make_default(stale_policy::cancel, 1);
  auto a = search(g, "q", "a");
  run();
  auto ab = search(g, "q", "ab");
  run();
  BOOST_TEST(a->value->error() == error::superseded);
  BOOST_TEST(counters->cancels == 1);
  // The slot was freed at once: "ab" is already at the worker.
  BOOST_TEST(counters->calls == 2);
  advance(100ms);
  BOOST_TEST(ab->value->value() == "hits for ab");
  auto s = stats(g);
  BOOST_TEST(s.cancels_sent == 1u);
  BOOST_TEST(s.stale_discarded == 0u);
  BOOST_TEST(s.completed == 1u);
}

BOOST_AUTO_TEST_CASE(cancelled_work_the_worker_never_answers_is_forgotten) {
  auto silent = spawn(search_impl, caf::timespan{100ms}, counters, false);
  latest_wins_config c;
  c.worker = silent;
  c.policy = stale_policy::cancel;
  c.worker_timeout = no_limit;
  auto g = make(c);
  auto a = search(g, "q", "a");
  run();
  auto ab = search(g, "q", "ab");
  run();
  BOOST_TEST(a->value->error() == error::superseded);
  advance(100ms);
  BOOST_TEST(ab->value->value() == "hits for ab");
  auto s = stats(g);
  BOOST_TEST(s.in_flight == 0u);
  BOOST_TEST(s.keys == 0u);
}

BOOST_AUTO_TEST_CASE(cancel_mode_uses_the_configured_cancel_message) {
  latest_wins_config c;
  c.worker = worker;
  c.policy = stale_policy::cancel;
  auto seen = std::make_shared<std::string>();
  c.cancel_message = [seen](const std::string& key, const caf::message& request) {
    *seen = key + ":" + request.get_as<std::string>(1);
    return caf::make_message(cancel_atom_v, key);
  };
  auto g = make(c);
  auto a = search(g, "box", "a");
  auto b = search(g, "box", "ab");
  run();
  BOOST_TEST(*seen == "box:a");
  advance(100ms);
  BOOST_TEST(b->value->value() == "hits for ab");
}

BOOST_AUTO_TEST_CASE(restart_mode_replaces_only_the_stale_keys_worker) {
  latest_wins_config c;
  c.worker_factory = factory();
  c.policy = stale_policy::restart;
  auto g = make(c);
  auto x1 = search(g, "x", "x1");
  auto y1 = search(g, "y", "y1");
  run();
  BOOST_TEST(counters->spawned == 3); // the fixture's worker plus one per key
  advance(50ms);
  auto x2 = search(g, "x", "x2");
  run();
  BOOST_TEST(x1->value->error() == error::superseded);
  BOOST_TEST(counters->spawned == 4);
  advance(50ms);
  BOOST_TEST(y1->value->value() == "hits for y1");
  BOOST_TEST(!x2->done());
  advance(50ms);
  BOOST_TEST(x2->value->value() == "hits for x2");
  auto s = stats(g);
  BOOST_TEST(s.restarts == 1u);
  BOOST_TEST(s.completed == 2u);
  BOOST_TEST(s.stale_discarded == 0u);
}

BOOST_AUTO_TEST_CASE(worker_errors_and_timeouts_reach_the_newest_caller) {
  testing::scripted_service_config sc;
  sc.script = {reaction::fail_with(caf::make_error(error::overloaded), 5ms),
               reaction::never()};
  auto svc = service(sc);
  latest_wins_config c;
  c.worker = svc.actor;
  c.worker_timeout = 40ms;
  auto g = make(c);
  auto a = search(g, "k", "a");
  run();
  advance(5ms);
  BOOST_TEST(a->value->error() == error::overloaded);
  auto b = search(g, "k", "b");
  run();
  advance(39ms);
  BOOST_TEST(!b->done());
  advance(1ms);
  BOOST_TEST(b->value->error() == caf::sec::request_timeout);
}

BOOST_AUTO_TEST_CASE(a_dying_worker_fails_its_requests_at_once) {
  // This worker parks each request and never answers: when it dies, CAF drops
  // the parked promise silently, so only the gate's monitor can answer.
  auto mute = spawn([](caf::event_based_actor* self) -> caf::behavior {
    auto parked = std::make_shared<std::vector<caf::response_promise>>();
    return {[=](ask_atom, std::string&) {
      parked->push_back(self->make_response_promise());
    }};
  });
  latest_wins_config c;
  c.worker = mute;
  c.worker_timeout = 10s;
  auto g = make(c);
  auto a = search(g, "a", "x");
  auto b = search(g, "b", "y");
  run();
  BOOST_TEST(!a->done());
  caf::anon_send_exit(mute, caf::exit_reason::kill);
  run();
  BOOST_REQUIRE(a->done());
  BOOST_REQUIRE(b->done());
  BOOST_TEST(a->value->error() == caf::exit_reason::kill);
  BOOST_TEST(b->value->error() == caf::exit_reason::kill);
  BOOST_TEST(ms(elapsed()) == 0);
  BOOST_TEST(stats(g).in_flight == 0u);
  // The shared worker stays gone: a later submit fails at once with its exit
  // reason (a dead remote worker would drop the request without a bounce).
  auto c2 = search(g, "c", "z");
  run();
  BOOST_REQUIRE(c2->done());
  BOOST_TEST(c2->value->error() == caf::exit_reason::kill);
  BOOST_TEST(ms(elapsed()) == 0);
  auto s = stats(g);
  BOOST_TEST(s.factory_failures == 0u);
  BOOST_TEST(s.keys == 0u);
}

BOOST_AUTO_TEST_CASE(a_worker_that_delegates_then_exits_normally_fails_its_caller) {
  // The gate cannot tell a request passed on from one dropped: a worker that
  // exits, normally or not, fails every request still at it at once. The
  // answer that comes later from the actor it delegated to is ignored.
  auto backend = worker; // answers after 100 ms
  latest_wins_config c;
  c.worker_factory = [backend](caf::actor_system& sys) {
    return sys.spawn([backend](caf::event_based_actor* self) -> caf::behavior {
      return {[=](ask_atom a, std::string& q) {
        auto res = self->delegate(backend, a, std::move(q));
        self->quit();
        return res;
      }};
    });
  };
  auto g = make(c);
  auto a = search(g, "a", "x");
  run();
  BOOST_REQUIRE(a->done());
  BOOST_TEST(a->value->error() == caf::sec::request_receiver_down);
  BOOST_TEST(ms(elapsed()) == 0);
  advance(100ms); // the delegated answer reaches the gate
  BOOST_TEST(a->calls == 1);
  auto s = stats(g);
  BOOST_TEST(s.in_flight == 0u);
  BOOST_TEST(s.completed == 1u); // the error it was answered
  // The key gets a new worker for its next request.
  auto b = search(g, "a", "y");
  run();
  BOOST_REQUIRE(b->done());
  BOOST_TEST(b->value->error() == caf::sec::request_receiver_down);
  BOOST_TEST(counters->calls == 2);
}

BOOST_AUTO_TEST_CASE(a_dead_per_key_worker_is_made_anew) {
  auto made = std::make_shared<std::vector<caf::actor>>();
  auto cs = counters;
  latest_wins_config c;
  c.worker_factory = [made, cs](caf::actor_system& s) {
    auto w = s.spawn(search_impl, caf::timespan{100ms}, cs, true);
    made->push_back(w);
    return w;
  };
  auto g = make(c);
  auto a = search(g, "k", "x");
  run();
  BOOST_REQUIRE(made->size() == 1u);
  caf::anon_send_exit(made->front(), caf::exit_reason::kill);
  run();
  BOOST_REQUIRE(a->done());
  BOOST_TEST(a->value->error() == caf::exit_reason::kill);
  auto b = search(g, "k", "y");
  run();
  BOOST_TEST(made->size() == 2u);
  advance(100ms);
  BOOST_REQUIRE(b->done());
  BOOST_TEST(b->value->value() == "hits for y");
}

BOOST_AUTO_TEST_CASE(subscribers_hear_of_restarted_and_dead_workers) {
  // Workers that park each request and never answer: only the gate's
  // monitor answers a request at a worker that dies.
  auto made = std::make_shared<std::vector<caf::actor>>();
  latest_wins_config c;
  c.worker_factory = [made](caf::actor_system& s) {
    auto w = s.spawn([](caf::event_based_actor* self) -> caf::behavior {
      auto parked = std::make_shared<std::vector<caf::response_promise>>();
      return {[=](ask_atom, std::string&) {
        parked->push_back(self->make_response_promise());
      }};
    });
    made->push_back(w);
    return w;
  };
  c.policy = stale_policy::restart;
  auto g = make(c);
  auto events = std::make_shared<std::vector<latest_wins_event>>();
  auto listener = spawn([events](caf::event_based_actor*) -> caf::behavior {
    return {[events](latest_wins_event& ev) { events->push_back(std::move(ev)); }};
  });
  BOOST_TEST(!subscription(g, subscribe_atom_v, listener));
  auto x1 = search(g, "x", "x1");
  run();
  auto x2 = search(g, "x", "x2");
  run();
  BOOST_REQUIRE(events->size() == 1u);
  BOOST_TEST(to_string((*events)[0].kind) == "worker_restarted");
  BOOST_TEST((*events)[0].key == "x");
  BOOST_TEST((*events)[0].version == 1u);
  BOOST_REQUIRE(made->size() == 2u);
  caf::anon_send_exit(made->back(), caf::exit_reason::kill);
  run();
  BOOST_TEST(x2->value->error() == caf::exit_reason::kill);
  BOOST_REQUIRE(events->size() == 2u);
  auto& down = (*events)[1];
  BOOST_TEST(to_string(down.kind) == "worker_down");
  BOOST_TEST(down.key == "x");
  BOOST_TEST(down.lost == 1u);
  BOOST_TEST(down.reason.find("kill") != std::string::npos);
  BOOST_TEST(!subscription(g, unsubscribe_atom_v, listener));
  auto x3 = search(g, "x", "x3");
  run();
  auto x4 = search(g, "x", "x4");
  run();
  BOOST_TEST(stats(g).restarts == 2u);
  BOOST_TEST(events->size() == 2u);
}

BOOST_AUTO_TEST_CASE(gate_subscriptions_are_bounded_and_checked) {
  latest_wins_config c;
  c.worker = worker;
  c.max_subscribers = 1;
  auto g = make(c);
  auto quiet = [](caf::event_based_actor*) -> caf::behavior {
    return {[](latest_wins_event&) {}};
  };
  auto a = spawn(quiet);
  auto b = spawn(quiet);
  BOOST_TEST(!subscription(g, subscribe_atom_v, a));
  BOOST_TEST(subscription(g, subscribe_atom_v, b) == error::overloaded);
  BOOST_TEST(subscription(g, subscribe_atom_v, caf::actor{}) == error::invalid_config);
  kill(a);
  BOOST_TEST(!subscription(g, subscribe_atom_v, b));
  c.max_subscribers = 0;
  auto bad = spawn_latest_wins<std::string>(sys, c);
  BOOST_REQUIRE(!bad);
  BOOST_TEST(sys.render(bad.error()).find("max_subscribers") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_failing_worker_factory_fails_only_its_caller) {
  // The factory's 2nd and 5th calls throw and its 3rd returns no actor.
  auto calls = std::make_shared<int>(0);
  auto cs = counters;
  latest_wins_config c;
  c.worker_factory = [calls, cs](caf::actor_system& s) -> caf::actor {
    ++*calls;
    if (*calls == 2 || *calls == 5)
      throw std::runtime_error("no connection");
    if (*calls == 3)
      return {};
    return s.spawn(search_impl, caf::timespan{10ms}, cs, true);
  };
  c.max_in_flight = 1;
  auto g = make(c);
  auto d = search(g, "d", "z");
  run();
  // Both wait for the one slot, so the factory runs when their turn comes.
  auto a = search(g, "a", "x");
  auto b = search(g, "b", "y");
  run();
  advance(10ms);
  BOOST_TEST(d->value->value() == "hits for z");
  BOOST_REQUIRE(a->done());
  BOOST_TEST(a->value->error() == caf::sec::runtime_error);
  BOOST_TEST(sys.render(a->value->error()).find("no connection") != std::string::npos);
  BOOST_REQUIRE(b->done());
  BOOST_TEST(sys.render(b->value->error()).find("no actor") != std::string::npos);
  auto e = search(g, "e", "w");
  run();
  advance(10ms);
  BOOST_TEST(e->value->value() == "hits for w");
  // With the slot free, the factory runs at once.
  auto f = search(g, "f", "v");
  run();
  BOOST_REQUIRE(f->done());
  BOOST_TEST(f->value->error() == caf::sec::runtime_error);
  auto s = stats(g);
  BOOST_TEST(s.keys == 0u);
  BOOST_TEST(s.in_flight == 0u);
  BOOST_TEST(s.factory_failures == 3u);
  BOOST_TEST(s.completed == 2u);
  BOOST_TEST(*calls == 5);
}

BOOST_AUTO_TEST_CASE(a_restart_whose_new_worker_fails_frees_the_slot_for_the_line) {
  // One slot. Restarting key a frees it for b, first in line; the factory
  // then fails for b, so a's new request takes the slot at once.
  auto calls = std::make_shared<int>(0);
  auto cs = counters;
  latest_wins_config c;
  c.worker_factory = [calls, cs](caf::actor_system& s) -> caf::actor {
    if (++*calls == 2)
      throw std::runtime_error("no connection");
    return s.spawn(search_impl, caf::timespan{10ms}, cs, true);
  };
  c.policy = stale_policy::restart;
  c.max_in_flight = 1;
  auto g = make(c);
  auto a1 = search(g, "a", "a1");
  run();
  auto b = search(g, "b", "b1");
  run();
  auto a2 = search(g, "a", "a2");
  run();
  BOOST_TEST(a1->value->error() == error::superseded);
  BOOST_REQUIRE(b->done());
  BOOST_TEST(b->value->error() == caf::sec::runtime_error);
  BOOST_TEST(!a2->done());
  advance(10ms);
  BOOST_REQUIRE(a2->done());
  BOOST_TEST(a2->value->value() == "hits for a2");
  auto s = stats(g);
  BOOST_TEST(s.in_flight == 0u);
  BOOST_TEST(s.queued == 0u);
  BOOST_TEST(s.restarts == 1u);
  BOOST_TEST(s.factory_failures == 1u);
}

BOOST_AUTO_TEST_CASE(a_throwing_cancel_message_only_skips_that_cancel) {
  latest_wins_config c;
  c.worker = worker;
  c.policy = stale_policy::cancel;
  c.max_in_flight = 1;
  c.cancel_message = [](const std::string& key, const caf::message&) -> caf::message {
    if (key == "bad")
      throw std::runtime_error("cannot build the cancel");
    return caf::make_message(cancel_atom_v, key);
  };
  auto g = make(c);
  auto a = search(g, "bad", "a");
  run();
  auto b = search(g, "bad", "ab");
  run();
  BOOST_TEST(a->value->error() == error::superseded);
  // No cancel went out: the stale work keeps its slot until it ends, as
  // under the discard policy, and the newest waits for it.
  auto s = stats(g);
  BOOST_TEST(s.in_flight == 1u);
  BOOST_TEST(s.queued == 1u);
  advance(100ms);
  BOOST_TEST(stats(g).stale_discarded == 1u);
  BOOST_TEST(!b->done());
  advance(100ms);
  BOOST_TEST(b->value->value() == "hits for ab");
  // The gate goes on for every key.
  auto other = search(g, "other", "o");
  run();
  advance(100ms);
  BOOST_TEST(other->value->value() == "hits for o");
  s = stats(g);
  BOOST_TEST(s.cancels_sent == 0u);
  BOOST_TEST(s.completed == 2u);
  BOOST_TEST(counters->cancels == 0);
}

BOOST_AUTO_TEST_CASE(a_worker_answer_of_the_wrong_type_is_an_error) {
  auto svc = echo(1ms);
  latest_wins_config c;
  c.worker = svc.actor;
  auto g = make(c);
  auto out = start<str_result>([=](auto* self, auto done) {
    self->request(g, caf::infinite, submit_atom_v, std::string{"k"},
                  caf::make_message(ask_atom_v, int64_t{7}))
        .then([done](std::string& x) { done(str_result{x}); },
              [done](caf::error& e) { done(str_result{e}); });
  });
  run();
  advance(1ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::sec::unexpected_response);
}

BOOST_AUTO_TEST_CASE(too_many_keys_answers_overloaded) {
  latest_wins_config c;
  c.worker = worker;
  c.max_keys = 2;
  auto g = make(c);
  auto a = search(g, "a", "1"), b = search(g, "b", "1"), d = search(g, "c", "1");
  run();
  BOOST_TEST(d->value->error() == error::overloaded);
  advance(100ms);
  BOOST_TEST(a->value->value() == "hits for 1");
  auto e = search(g, "c", "2");
  run();
  advance(100ms);
  BOOST_TEST(e->value->value() == "hits for 2");
}

BOOST_AUTO_TEST_CASE(invalid_configs_are_refused_naming_the_field) {
  latest_wins_config none;
  auto g = spawn_latest_wins<std::string>(sys, none);
  BOOST_REQUIRE(!g);
  BOOST_TEST(g.error() == error::invalid_config);
  BOOST_TEST(sys.render(g.error()).find("worker") != std::string::npos);
  latest_wins_config restart;
  restart.worker = worker;
  restart.policy = stale_policy::restart;
  BOOST_TEST(spawn_latest_wins<std::string>(sys, restart).error() ==
             error::invalid_config);
  latest_wins_config zero;
  zero.worker = worker;
  zero.max_in_flight = 0;
  auto z = spawn_latest_wins<std::string>(sys, zero);
  BOOST_TEST(sys.render(z.error()).find("max_in_flight") != std::string::npos);
  latest_wins_config t;
  t.worker = worker;
  t.worker_timeout = -1ms;
  BOOST_TEST(spawn_latest_wins<std::string>(sys, t).error() == error::invalid_config);
  latest_wins_config p;
  p.worker = worker;
  p.policy = static_cast<stale_policy>(7);
  auto bad_policy = spawn_latest_wins<std::string>(sys, p);
  BOOST_REQUIRE(!bad_policy);
  BOOST_TEST(sys.render(bad_policy.error()).find("policy") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(gate_exit_answers_waiting_callers_and_stops_its_workers) {
  latest_wins_config c;
  c.worker_factory = factory();
  c.max_in_flight = 1;
  auto g = make(c);
  auto a = search(g, "x", "a");
  auto b = search(g, "y", "b");
  run();
  auto baseline = running();
  caf::anon_send_exit(g, caf::exit_reason::user_shutdown);
  run();
  BOOST_TEST(a->value->error() == error::shut_down);
  BOOST_TEST(b->value->error() == error::shut_down);
  // The gate and its one per-key worker are gone.
  BOOST_TEST(running() == baseline - 2);
  advance(1s);
  BOOST_TEST(a->calls == 1);
  BOOST_TEST(b->calls == 1);
}

BOOST_AUTO_TEST_CASE(the_latest_helper_builds_a_call_for_compositions) {
  auto g = make_default();
  auto c = latest(g, "q", ask_atom_v, std::string{"z"});
  auto out = start<str_result>([=](auto* self, auto done) {
    self->request(c.target, caf::infinite, c.content)
        .then([done](std::string& x) { done(str_result{x}); },
              [done](caf::error& e) { done(str_result{e}); });
  });
  run();
  advance(100ms);
  BOOST_TEST(out->value->value() == "hits for z");
}

BOOST_AUTO_TEST_CASE(versioned_writes_reject_older_versions) {
  auto v = spawn_versioned<std::string>(sys, {"initial"});
  own.push_back(caf::actor_cast<caf::actor>(v));
  auto put = [&](uint64_t version, std::string x) {
    auto out = start<version_ack>([=](auto* self, auto done) {
      self->request(v, caf::infinite, put_atom_v, version, x).then([done](version_ack a) {
        done(a);
      });
    });
    run();
    return *out->value;
  };
  auto get = [&] {
    auto out = start<std::pair<uint64_t, std::string>>([=](auto* self, auto done) {
      self->request(v, caf::infinite, get_atom_v)
          .then([done](uint64_t n, std::string& x) { done(std::make_pair(n, x)); });
    });
    run();
    return *out->value;
  };
  BOOST_TEST(get().first == 0u);
  BOOST_TEST(get().second == "initial");
  auto a = put(2, "second");
  BOOST_TEST(a.accepted);
  BOOST_TEST(a.version == 2u);
  // The answer to version 1 arrives late: it cannot roll the state back.
  auto late = put(1, "first");
  BOOST_TEST(!late.accepted);
  BOOST_TEST(late.version == 2u);
  auto same = put(2, "again");
  BOOST_TEST(!same.accepted);
  BOOST_TEST(get().second == "second");
  BOOST_TEST(put(3, "third").accepted);
  BOOST_TEST(get().first == 3u);
  BOOST_TEST(get().second == "third");
}

BOOST_AUTO_TEST_CASE(out_of_order_responses_cannot_roll_versioned_state_back) {
  // Three fetches with decreasing latency answer in reverse order; each
  // answer is written with the version of its request.
  auto v = spawn_versioned<int64_t>(sys, {});
  own.push_back(caf::actor_cast<caf::actor>(v));
  testing::scripted_service_config sc;
  sc.by_input = [](int64_t x) {
    return reaction::reply_after(std::chrono::milliseconds(40 - 10 * x));
  };
  auto svc = service(sc);
  auto acks = std::make_shared<std::vector<version_ack>>();
  for (int64_t i = 1; i <= 3; ++i)
    start<int>([=](auto* self, auto) {
      self->request(svc.actor, caf::infinite, ask_atom_v, i).then([=](int64_t x) {
        self->request(v, caf::infinite, put_atom_v, static_cast<uint64_t>(i), x)
            .then([=](version_ack a) { acks->push_back(a); });
      });
    });
  run();
  advance(40ms);
  BOOST_REQUIRE(acks->size() == 3u);
  BOOST_TEST((*acks)[0].accepted);  // version 3 first
  BOOST_TEST(!(*acks)[1].accepted); // version 2, older
  BOOST_TEST(!(*acks)[2].accepted); // version 1, older
  BOOST_TEST((*acks)[2].version == 3u);
}

BOOST_AUTO_TEST_CASE(a_worker_answering_an_empty_error_fails_its_caller) {
  auto blank = spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](ask_atom, std::string&) { return caf::error{}; }};
  });
  latest_wins_config c;
  c.worker = blank;
  auto g = make(c);
  auto out = search(g, "k", "q");
  run();
  BOOST_REQUIRE(out->done());
  BOOST_REQUIRE(!*out->value);
  BOOST_TEST(out->value->error() == caf::sec::unexpected_response);
}

BOOST_AUTO_TEST_CASE(a_key_retyping_under_cancel_does_not_overtake_a_key_in_line) {
  // One slot, cancel policy: "b" waits in line while "a" is retyped; the
  // slot each retype frees goes to "b" first.
  auto order = std::make_shared<std::vector<std::string>>();
  auto w = spawn([order](caf::event_based_actor* self) -> caf::behavior {
    auto parked = std::make_shared<std::vector<caf::response_promise>>();
    return {
        [=](ask_atom, std::string& q) {
          order->push_back(q);
          parked->push_back(self->make_response_promise());
        },
        [=](cancel_atom, const std::string&) {
          for (auto& rp : *parked)
            rp.deliver(caf::make_error(error::cancelled));
          parked->clear();
        },
    };
  });
  latest_wins_config c;
  c.worker = w;
  c.policy = stale_policy::cancel;
  c.max_in_flight = 1;
  auto g = make(c);
  auto a1 = search(g, "a", "a1");
  run();
  auto b1 = search(g, "b", "b1");
  run();
  auto a2 = search(g, "a", "a2");
  run();
  auto a3 = search(g, "a", "a3");
  run();
  BOOST_TEST(*order == (std::vector<std::string>{"a1", "b1"}));
  BOOST_TEST(a1->value->error() == error::superseded);
  BOOST_TEST(a2->value->error() == error::superseded);
  BOOST_TEST(!a3->done());
  BOOST_TEST(!b1->done());
  BOOST_TEST(stats(g).queued == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
