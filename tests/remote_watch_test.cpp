// Calls to actors of another node, in virtual time: a second actor system in
// this process, with the middleman loaded, has its own node ID, so its actors
// count as remote for the compositions and with_lock (they watch such
// targets, patterns/detail/send.hpp), as actors of another process would.
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <actorkit/actors/mutex.hpp>
#include <actorkit/patterns/detail/send.hpp>
#include <actorkit/patterns/parallel.hpp>
#include <actorkit/patterns/with_lock.hpp>

#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;

namespace {

using ints = std::vector<int64_t>;
using all_result = caf::expected<ints>;
using int_result = caf::expected<int64_t>;

struct other_node_config : virtual_time_config {
  other_node_config() { load<caf::io::middleman>(); }
};

/// The other node: its own actor system on its own test coordinator.
struct other_node {
  other_node_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched =
      dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  std::vector<caf::actor> spawned;

  /// Takes every request and never answers it: a call held by a process
  /// that is lost next.
  caf::actor park() {
    auto held = std::make_shared<std::vector<caf::response_promise>>();
    return keep(sys.spawn([held](caf::event_based_actor* self) -> caf::behavior {
      self->set_default_handler(
          [held, self](caf::scheduled_actor*,
                       caf::message_view&) -> caf::result<caf::message> {
            held->push_back(self->make_response_promise());
            return held->back();
          });
      return {[](done_atom) {}};
    }));
  }

  /// Answers (ask_atom, x) with x.
  caf::actor echo() {
    return keep(sys.spawn(
        []() -> caf::behavior { return {[](ask_atom, int64_t x) { return x; }}; }));
  }

  caf::actor keep(caf::actor hdl) {
    spawned.push_back(hdl);
    return hdl;
  }

  ~other_node() {
    for (auto& h : spawned)
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    for (int i = 0; i < 100; ++i)
      if (sched.run() + sched.trigger_timeouts() == 0)
        break;
  }
};

bool terminated(const caf::actor& hdl) {
  return caf::actor_cast<caf::abstract_actor*>(hdl)->getf(
      caf::abstract_actor::is_terminated_flag);
}

struct fixture : virtual_time_fixture {
  other_node node;

  std::shared_ptr<outcome<all_result>> all_of(caf::actor target) {
    return start<all_result>([=](auto* self, auto done) {
      all(self, std::vector<call<int64_t>>{ask<int64_t>(target, ask_atom_v, int64_t{1})},
          done, call_options{}.with_timeout(600s));
    });
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(remote_watch_suite, fixture)

BOOST_AUTO_TEST_CASE(a_remote_target_dying_fails_the_call_and_spares_the_caller) {
  BOOST_REQUIRE(node.sys.node() != sys.node());
  auto target = node.park();
  auto out = all_of(target);
  run();
  node.sched.run(); // the target parks the request
  caf::anon_send_exit(target, caf::exit_reason::kill);
  node.sched.run(); // it dies; the watch answers the caller
  run();
  BOOST_TEST(!terminated(out->client));
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::exit_reason::kill);
}

BOOST_AUTO_TEST_CASE(a_remote_target_gone_before_the_call_fails_it_at_once) {
  auto target = node.park();
  caf::anon_send_exit(target, caf::exit_reason::kill);
  node.sched.run();
  auto out = all_of(target);
  run();
  node.sched.run();
  run();
  BOOST_TEST(!terminated(out->client));
  BOOST_REQUIRE(out->done());
  BOOST_TEST(!*out->value);
}

BOOST_AUTO_TEST_CASE(a_remote_target_that_delegates_and_exits_still_answers) {
  // The front hands the request on to a worker (delegate) and exits
  // normally: the worker's answer is on its way, as it would be locally.
  auto worker = node.echo();
  auto front =
      node.keep(node.sys.spawn([worker](caf::event_based_actor* self) -> caf::behavior {
        return {[=](ask_atom a, int64_t x) {
          self->delegate(worker, a, x);
          self->quit();
        }};
      }));
  auto out = all_of(front);
  run();
  node.sched.run(); // the front delegates and exits; the worker answers
  run();
  BOOST_TEST(terminated(front));
  BOOST_REQUIRE(out->done());
  BOOST_REQUIRE(*out->value);
  BOOST_TEST(out->value->value() == ints{1});
  BOOST_TEST(out->calls == 1);
}

BOOST_AUTO_TEST_CASE(a_remote_target_gone_normally_before_the_call_fails_it_at_once) {
  auto target =
      node.keep(node.sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
        self->quit();
        return {[](ask_atom, int64_t x) { return x; }};
      }));
  node.sched.run();
  BOOST_REQUIRE(terminated(target));
  auto out = all_of(target);
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::sec::request_receiver_down);
  BOOST_TEST(!terminated(out->client));
}

BOOST_AUTO_TEST_CASE(an_answered_remote_call_is_no_longer_watched) {
  auto target = node.echo();
  auto out = all_of(target);
  run();
  node.sched.run();
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == ints{1});
  // The target's death later reaches nobody: one answer, caller unharmed.
  caf::anon_send_exit(target, caf::exit_reason::kill);
  node.sched.run();
  run();
  BOOST_TEST(out->calls == 1);
  BOOST_TEST(!terminated(out->client));
}

BOOST_AUTO_TEST_CASE(a_requester_dying_mid_call_takes_its_watch_off_the_target) {
  auto target = node.park();
  // Two requesters, each with a watched call parked at the target.
  auto requester = [&](std::shared_ptr<detail::target_watch::key> key) {
    return sys.spawn([=](caf::event_based_actor* self) {
      auto hdl = self->request(target, caf::infinite, ask_atom_v, int64_t{1});
      auto done = detail::watch(self, target, hdl.id());
      *key = detail::target_watch::key{self->address(), hdl.id()};
      hdl.then([done](int64_t) { done(); }, [done](caf::error&) { done(); });
    });
  };
  auto key_a = std::make_shared<detail::target_watch::key>();
  auto key_b = std::make_shared<detail::target_watch::key>();
  auto a = requester(key_a);
  auto b = requester(key_b);
  run();
  node.sched.run();
  caf::anon_send_exit(a, caf::exit_reason::kill);
  run();
  auto* t = caf::actor_cast<caf::abstract_actor*>(target);
  auto watched = [&](const detail::target_watch::key& k) {
    return t->detach(caf::attachable::token{detail::target_watch::token_type, &k});
  };
  BOOST_TEST(watched(*key_a) == 0u); // gone with its requester
  BOOST_TEST(watched(*key_b) == 1u); // still waiting
  caf::anon_send_exit(b, caf::exit_reason::kill);
  run();
}

BOOST_AUTO_TEST_CASE(with_lock_on_a_remote_mutex_that_is_lost_runs_done) {
  auto lost = node.park(); // a mutex whose process is lost: no answer ever
  auto mtx = caf::actor_cast<mutex_actor>(lost);
  auto out = start<int_result>([=](auto* self, auto done) {
    with_lock<int64_t>(
        self, mtx, [](const lease&, auto finish) { finish(int64_t{1}); }, done);
  });
  run();
  node.sched.run();
  caf::anon_send_exit(lost, caf::exit_reason::kill);
  node.sched.run();
  run();
  BOOST_TEST(!terminated(out->client));
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::exit_reason::kill);
}

BOOST_AUTO_TEST_SUITE_END()
