#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <caf/all.hpp>

#include <actorkit/actors/worker_pool.hpp>

#include "fixtures/real_time.hpp"
#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;
using actorkit::testing::reaction;

namespace {

using result = caf::expected<int64_t>;

/// Shared view of every worker a test's factory started (virtual time only:
/// everything runs on the test thread).
struct probe {
  int in_flight = 0;
  int max_in_flight = 0;
  int calls = 0;
  std::vector<int64_t> order;
  std::vector<caf::actor> spawned;
  /// Reaction to input x on its n-th attempt (0-based).
  std::function<reaction(int64_t x, int attempt)> react = [](int64_t, int) {
    return reaction::reply_after(10ms);
  };
  std::unordered_map<int64_t, int> attempts;
  /// Tasks each worker runs now, and the most any one ran at once.
  std::map<caf::actor_id, int> per_worker;
  int per_worker_max = 0;
  void up(caf::actor_id id) {
    per_worker_max = std::max(per_worker_max, ++per_worker[id]);
  }
  void down(caf::actor_id id) { --per_worker[id]; }
};

struct parked {
  caf::response_promise rp;
  int64_t x;
  reaction what;
};

/// A worker answering (ask_atom, x) with x * 10 as `probe::react` says.
caf::behavior probe_worker(caf::event_based_actor* self, std::shared_ptr<probe> p) {
  auto pending = std::make_shared<std::unordered_map<uint64_t, parked>>();
  auto my_id = self->id();
  self->attach_functor([p, pending, my_id](const caf::error& reason) {
    for (auto& kvp : *pending) {
      --p->in_flight;
      p->down(my_id);
      kvp.second.rp.deliver(reason ? reason : caf::make_error(caf::exit_reason::normal));
    }
    pending->clear();
  });
  auto next = std::make_shared<uint64_t>(0);
  auto settle = [self, p](parked& req) {
    --p->in_flight;
    p->down(self->id());
    switch (req.what.kind) {
    case reaction::reply:
      req.rp.deliver(req.x * 10);
      break;
    case reaction::fail:
      req.rp.deliver(req.what.err);
      break;
    case reaction::die:
      ++p->in_flight; // answered by the exit path below
      p->up(self->id());
      self->quit(req.what.err);
      break;
    case reaction::hang:
      break;
    }
  };
  return {
      [=](ask_atom, int64_t x) {
        ++p->calls;
        p->order.push_back(x);
        ++p->in_flight;
        p->up(self->id());
        p->max_in_flight = std::max(p->max_in_flight, p->in_flight);
        auto what = p->react(x, p->attempts[x]++);
        auto id = (*next)++;
        pending->emplace(id, parked{self->make_response_promise(), x, what});
        if (what.kind != reaction::hang)
          self->delayed_send(self, what.latency, tick_atom_v, id);
      },
      [=](tick_atom, uint64_t id) {
        auto i = pending->find(id);
        if (i == pending->end())
          return;
        auto req = std::move(i->second);
        if (req.what.kind == reaction::die) {
          // Leave it parked: the exit path answers it, as a crash would.
          --p->in_flight;
          p->down(self->id());
          settle(req);
          return;
        }
        pending->erase(i);
        settle(req);
      },
  };
}

bool has_value(const std::shared_ptr<outcome<caf::message>>& out, int64_t x) {
  return out->calls == 1 && out->value->match_elements<int64_t>() &&
         out->value->get_as<int64_t>(0) == x;
}

template <class E>
bool has_error(const std::shared_ptr<outcome<caf::message>>& out, E code) {
  return out->calls == 1 && out->value->match_elements<caf::error>() &&
         out->value->get_as<caf::error>(0) == code;
}

struct fixture : virtual_time_fixture {
  std::shared_ptr<probe> p = std::make_shared<probe>();
  std::vector<caf::actor> pools;
  caf::actor_clock::time_point t0 = now();

  caf::actor_clock::time_point start_time() const { return t0; }

  ~fixture() {
    for (auto& pool : pools)
      caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    run();
  }

  /// Task 1 crashes its worker after 5 ms; every other task is answered
  /// after `latency`.
  void crash_on_one(caf::timespan latency) {
    p->react = [latency](int64_t x, int) {
      return x == 1 ? reaction::die_with(caf::make_error(caf::sec::runtime_error), 5ms)
                    : reaction::reply_after(latency);
    };
  }

  /// With `crash_on_one`, on a pool of two workers a and b: task 1 runs on
  /// a, task 2 on b; b is told to leave once its task is done (a shrink to
  /// 1), then a crashes. After `wait`, task 2 and the queued task 3 are
  /// answered and one worker is left.
  void shrink_then_crash(const caf::actor& pool, caf::timespan wait) {
    auto crash = ask(pool, 1);
    auto busy = ask(pool, 2);
    run();
    BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{1})));
    auto queued = ask(pool, 3);
    run();
    advance(5ms);
    BOOST_TEST(has_error(crash, caf::sec::runtime_error));
    advance(wait);
    BOOST_TEST(has_value(busy, 20));
    BOOST_TEST(has_value(queued, 30));
    BOOST_TEST(stats(pool).workers == 1u);
  }

  /// Task 1 gets stuck at 0 ms; task 2 starts beside it on the same worker
  /// at 30 ms. At 50 ms task 1 has timed out (a 50 ms task timeout); returns
  /// task 2's outcome.
  std::shared_ptr<outcome<caf::message>> time_out_beside(const caf::actor& pool) {
    auto stuck = ask(pool, 1);
    run();
    advance(30ms);
    auto beside = ask(pool, 2);
    run();
    advance(20ms);
    BOOST_TEST(has_error(stuck, caf::sec::request_timeout));
    return beside;
  }

  /// One worker with two slots and a 50 ms task timeout; task 2 is answered
  /// after 40 ms, every other task is stuck (see time_out_beside).
  worker_pool_config beside_a_stuck_task(size_t max_redeliveries) {
    p->react = [](int64_t x, int) {
      return x == 2 ? reaction::reply_after(40ms) : reaction::never();
    };
    worker_pool_config cfg;
    cfg.workers = 1;
    cfg.max_in_flight_per_worker = 2;
    cfg.task_timeout = 50ms;
    cfg.max_redeliveries = max_redeliveries;
    return cfg;
  }

  /// For a random run: 1 to 4 workers with 1 to 3 slots each and a 50 ms
  /// task timeout, whose tasks crash, hang or fail their worker one time in
  /// `outcomes` each and are otherwise answered after 1 to 40 ms.
  worker_pool_config random_pool(std::minstd_rand& rng, int seed, unsigned outcomes) {
    p->react = [&rng, outcomes](int64_t, int) {
      switch (rng() % outcomes) {
      case 0:
        return reaction::die_with(caf::make_error(caf::sec::runtime_error),
                                  std::chrono::milliseconds(1 + rng() % 20));
      case 1:
        return reaction::never();
      case 2:
        return reaction::fail_with(caf::make_error(caf::sec::runtime_error),
                                   std::chrono::milliseconds(1 + rng() % 20));
      default:
        return reaction::reply_after(std::chrono::milliseconds(1 + rng() % 40));
      }
    };
    worker_pool_config cfg;
    cfg.workers = 1 + seed % 4;
    cfg.max_in_flight_per_worker = 1 + seed % 3;
    cfg.task_timeout = 50ms;
    return cfg;
  }

  /// A pool over worker `w`, handed in, with factory() for replacements.
  caf::actor pool_over(const caf::actor& w, worker_pool_config cfg) {
    auto pool = spawn_worker_pool(sys, cfg, std::vector<caf::actor>{w}, factory());
    BOOST_REQUIRE(pool);
    pools.push_back(*pool);
    run();
    return *pool;
  }

  /// Starts `n` workers, then fails: throws, or returns no worker.
  worker_factory failing_after(int n, bool throws) {
    return [inner = factory(), n, throws,
            calls = std::make_shared<int>(0)](caf::actor_system& sys) -> caf::actor {
      if (++*calls <= n)
        return inner(sys);
      if (throws)
        throw std::runtime_error("no more workers");
      return {};
    };
  }

  worker_factory factory() {
    return [p = p](caf::actor_system& sys) {
      auto hdl = sys.spawn(probe_worker, p);
      p->spawned.push_back(hdl);
      return hdl;
    };
  }

  caf::actor make_pool(worker_pool_config cfg) {
    auto pool = spawn_worker_pool(sys, cfg, factory());
    BOOST_REQUIRE(pool);
    pools.push_back(*pool);
    run();
    return *pool;
  }

  /// A pool of one worker with the given queue timeout.
  caf::actor queue_pool(caf::timespan queue_timeout) {
    worker_pool_config cfg;
    cfg.workers = 1;
    cfg.queue_timeout = queue_timeout;
    return make_pool(cfg);
  }

  caf::actor make_pool(size_t workers) {
    worker_pool_config cfg;
    cfg.workers = workers;
    return make_pool(cfg);
  }

  /// A caller sending `msg` to the pool, waiting without a timeout: an answer
  /// that never comes shows up as an outcome with no calls.
  std::shared_ptr<outcome<caf::message>> send(caf::actor pool, caf::message msg) {
    return start<caf::message>([=](auto* self, auto done) {
      self->request(pool, caf::infinite, msg)
          .then([=](int64_t x) { done(caf::make_message(x)); },
                [=](caf::error& err) { done(caf::make_message(err)); });
    });
  }

  std::shared_ptr<outcome<caf::message>> ask(caf::actor pool, int64_t x) {
    return send(pool, caf::make_message(ask_atom_v, x));
  }

  std::shared_ptr<outcome<caf::message>> ask(caf::actor pool, int32_t prio, int64_t x) {
    return send(pool, prioritized(prio, ask_atom_v, x));
  }

  /// Sends a control message and waits for its (void) answer.
  caf::error control(caf::actor pool, caf::message msg) {
    auto out = start<caf::error>([=](auto* self, auto done) {
      self->request(pool, caf::infinite, msg)
          .then([=]() { done(caf::error{}); }, [=](caf::error& err) { done(err); });
    });
    run();
    BOOST_REQUIRE(out->done());
    return *out->value;
  }

  /// Queues one task in a new paused pool, runs `setup(pool)`, lets go of the
  /// pool and returns the task's outcome.
  std::shared_ptr<outcome<caf::message>>
  task_of_dropped_pool(std::function<void(const caf::actor&)> setup) {
    std::shared_ptr<outcome<caf::message>> out;
    {
      auto pool = spawn_worker_pool(sys, worker_pool_config{}, factory());
      BOOST_REQUIRE(pool);
      setup(*pool);
      BOOST_TEST(!control(*pool, caf::make_message(pause_atom_v)));
      out = ask(*pool, 1);
      run();
      BOOST_TEST(!out->done());
    }
    run();
    return out;
  }

  // An actor that has exited: requests to it bounce.
  caf::actor dead_backend() {
    auto backend = spawn([](caf::event_based_actor*) -> caf::behavior {
      return {[](ask_atom, int64_t x) { return x; }};
    });
    caf::anon_send_exit(backend, caf::exit_reason::kill);
    run();
    return backend;
  }

  // Sends a task that `delegating_worker` passes on to a dead actor, then
  // one it answers itself: the first gets the bounce, the second its value,
  // each run once.
  void bounce_then_answer(caf::actor pool, const std::shared_ptr<int>& runs) {
    auto bounced = ask(pool, -1);
    run();
    BOOST_TEST(has_error(bounced, caf::sec::request_receiver_down));
    auto next = ask(pool, 1);
    run();
    BOOST_TEST(has_value(next, 2));
    BOOST_TEST(*runs == 2);
  }

  // A subscriber of `pool` that keeps every event it hears.
  std::shared_ptr<std::vector<worker_pool_event>> subscribe_listener(caf::actor pool) {
    auto events = std::make_shared<std::vector<worker_pool_event>>();
    auto listener = spawn([events](caf::event_based_actor*) -> caf::behavior {
      return {[events](worker_pool_event& ev) { events->push_back(std::move(ev)); }};
    });
    BOOST_TEST(!control(pool, caf::make_message(subscribe_atom_v, listener)));
    return events;
  }

  static std::vector<std::string> kinds_of(const std::vector<worker_pool_event>& events) {
    std::vector<std::string> result;
    for (auto& ev : events)
      result.emplace_back(to_string(ev.kind));
    return result;
  }

  // A (drain_atom) request; its outcome holds no error once answered.
  std::shared_ptr<outcome<caf::error>> request_drain(caf::actor pool) {
    return start<caf::error>([=](auto* self, auto done) {
      self->request(pool, caf::infinite, drain_atom_v)
          .then([=]() { done(caf::error{}); }, [=](caf::error& err) { done(err); });
    });
  }

  // How many queued tasks (clear_atom) answered.
  /// A pool of one worker that never answers, with a 50 ms task timeout,
  /// running task 1 (`stuck`).
  caf::actor pool_with_a_stuck_task(std::shared_ptr<outcome<caf::message>>& stuck) {
    p->react = [](int64_t, int) { return reaction::never(); };
    worker_pool_config cfg;
    cfg.workers = 1;
    cfg.task_timeout = 50ms;
    auto pool = make_pool(cfg);
    stuck = ask(pool, 1);
    run();
    return pool;
  }

  uint64_t clear(caf::actor pool) {
    auto out = start<uint64_t>([=](auto* self, auto done) {
      self->request(pool, caf::infinite, clear_atom_v).then([=](uint64_t n) { done(n); });
    });
    run();
    BOOST_REQUIRE(out->done());
    return *out->value;
  }

  worker_pool_stats stats(caf::actor pool) {
    auto out = start<worker_pool_stats>([=](auto* self, auto done) {
      self->request(pool, caf::infinite, stats_atom_v).then([=](worker_pool_stats& s) {
        done(s);
      });
    });
    run();
    BOOST_REQUIRE(out->done());
    return *out->value;
  }

  /// Drives `pool` through 300 random steps (a resize to 1-5 workers, time
  /// passing, or a new task), checking after each that no worker runs more
  /// than `mif` tasks at once and no caller got two answers; then lets every
  /// deadline pass and checks that every caller got exactly one.
  void random_steps(caf::actor pool, std::minstd_rand& rng, size_t mif, int seed) {
    std::vector<std::shared_ptr<outcome<caf::message>>> outs;
    for (int step = 0; step < 300; ++step) {
      switch (rng() % 8) {
      case 0:
        caf::anon_send(pool, resize_atom_v, uint64_t{1 + rng() % 5});
        break;
      case 1:
        advance(std::chrono::milliseconds(rng() % 30));
        break;
      default:
        outs.push_back(ask(pool, int64_t(outs.size())));
      }
      run();
      BOOST_REQUIRE_MESSAGE(p->per_worker_max <= int(mif),
                            "seed " << seed << " step " << step << ": a worker ran "
                                    << p->per_worker_max << " tasks at once");
      for (auto& o : outs)
        BOOST_REQUIRE(o->calls <= 1);
    }
    advance(60000ms);
    run();
    for (auto& o : outs)
      BOOST_REQUIRE_MESSAGE(o->calls == 1, "seed " << seed << ": unanswered");
  }
};

/// Answers (ask_atom, x) with x + 1, but passes negative x on to `backend`
/// with `delegate`; counts its runs.
caf::behavior delegating_worker(caf::event_based_actor* self, caf::actor backend,
                                std::shared_ptr<int> runs) {
  return {[=](ask_atom, int64_t x) -> caf::result<int64_t> {
    ++*runs;
    if (x < 0) {
      self->delegate(backend, ask_atom_v, x);
      return caf::delegated<int64_t>{};
    }
    return x + 1;
  }};
}

/// A worker whose mailbox refuses its first message with an exception (as
/// an allocation failure would) and passes later ones on to `inner`.
class refusing_worker final : public caf::monitorable_actor {
public:
  refusing_worker(caf::actor_config& cfg, caf::actor inner)
      : caf::monitorable_actor(cfg), inner_(std::move(inner)) {
    // nop
  }

  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit* eu) override {
    if (!refused_) {
      refused_ = true;
      throw std::bad_alloc{};
    }
    inner_->enqueue(std::move(what), eu);
  }

private:
  caf::actor inner_;
  bool refused_ = false;
};

using typed_worker = caf::typed_actor<caf::replies_to<ask_atom, int64_t>::with<int64_t>>;

typed_worker::behavior_type typed_worker_impl() {
  return {[](ask_atom, int64_t x) { return x + 1; }};
}

} // namespace

namespace {

/// Answers every request at once with request_receiver_down and marks
/// itself terminating right after (its down message comes later).
class answer_then_die final : public caf::monitorable_actor {
public:
  explicit answer_then_die(caf::actor_config& cfg) : caf::monitorable_actor(cfg) {}

  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit* eu) override {
    if (what->mid.is_request() && what->sender)
      what->sender->enqueue(
          caf::make_mailbox_element(
              ctrl(), what->mid.response_id(), {},
              caf::make_message(caf::make_error(caf::sec::request_receiver_down))),
          eu);
    setf(is_terminated_flag);
  }
};

/// Passes every message on to `inner`, but throws (as if out of memory) on
/// about one request in `n`, drawn from `rng`.
class flaky_send_worker final : public caf::monitorable_actor {
public:
  flaky_send_worker(caf::actor_config& cfg, caf::actor inner,
                    std::shared_ptr<std::minstd_rand> rng, int n)
      : caf::monitorable_actor(cfg), inner_(std::move(inner)), rng_(std::move(rng)),
        n_(n) {}

  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit* eu) override {
    if (what->mid.is_request() && (*rng_)() % n_ == 0)
      throw std::bad_alloc{};
    inner_->enqueue(std::move(what), eu);
  }

private:
  caf::actor inner_;
  std::shared_ptr<std::minstd_rand> rng_;
  int n_;
};

/// A gate the test opens; the thread that waits at it says so first.
class gate {
public:
  void wait() {
    std::unique_lock<std::mutex> guard{mtx_};
    entered_ = true;
    cv_.notify_all();
    cv_.wait(guard, [this] { return open_; });
  }
  bool wait_entered(std::chrono::seconds limit) {
    std::unique_lock<std::mutex> guard{mtx_};
    return cv_.wait_for(guard, limit, [this] { return entered_; });
  }
  void open() {
    std::lock_guard<std::mutex> guard{mtx_};
    open_ = true;
    cv_.notify_all();
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool entered_ = false;
  bool open_ = false;
};

/// A slow receiver: its enqueue waits at a gate. Sent a delayed message, it
/// holds CAF's clock thread there, so that the clock's queue fills up.
class gate_keeper final : public caf::monitorable_actor {
public:
  gate_keeper(caf::actor_config& cfg, std::shared_ptr<gate> g)
      : caf::monitorable_actor(cfg), gate_(std::move(g)) {}

  void enqueue(caf::mailbox_element_ptr, caf::execution_unit*) override { gate_->wait(); }

private:
  std::shared_ptr<gate> gate_;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(worker_pool_suite, fixture)

BOOST_AUTO_TEST_CASE(concurrency_never_exceeds_the_worker_count) {
  auto pool = make_pool(3);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 7; ++i)
    outs.push_back(ask(pool, i));
  run();
  BOOST_TEST(p->in_flight == 3);
  BOOST_TEST(stats(pool).queued == 4u);
  advance(30ms);
  for (int64_t i = 0; i < 7; ++i)
    BOOST_TEST(has_value(outs[i], i * 10));
  BOOST_TEST(p->max_in_flight == 3);
  // ceil(7 / 3) rounds of 10 ms.
  BOOST_TEST(ms(outs[6]->at - outs[0]->at) == 20);
}

BOOST_AUTO_TEST_CASE(per_worker_limit_allows_that_many_tasks_per_worker) {
  worker_pool_config cfg;
  cfg.workers = 2;
  cfg.max_in_flight_per_worker = 2;
  auto pool = make_pool(cfg);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 8; ++i)
    outs.push_back(ask(pool, i));
  run();
  BOOST_TEST(p->in_flight == 4);
  advance(20ms);
  for (auto& out : outs)
    BOOST_TEST(out->calls == 1);
  BOOST_TEST(p->max_in_flight == 4);
  BOOST_TEST(ms(elapsed()) == 20);
}

BOOST_AUTO_TEST_CASE(a_burst_spreads_over_the_workers_before_any_gets_a_second_task) {
  // Which worker ran each task, in order.
  auto ran_on = std::make_shared<std::vector<int>>();
  auto n = std::make_shared<int>(0);
  worker_pool_config cfg;
  cfg.workers = 3;
  cfg.max_in_flight_per_worker = 4;
  auto pool = spawn_worker_pool(sys, cfg, [=](caf::actor_system& sys) {
    auto idx = (*n)++;
    return sys.spawn([=]() -> caf::behavior {
      return {[=](ask_atom, int64_t x) {
        ran_on->push_back(idx);
        return x * 10;
      }};
    });
  });
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  run();
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 6; ++i)
    outs.push_back(ask(*pool, i));
  run();
  for (int64_t i = 0; i < 6; ++i)
    BOOST_TEST(has_value(outs[i], i * 10));
  // Two tasks per worker, not four on the first and two on the second.
  std::map<int, int> per_worker;
  for (auto idx : *ran_on)
    ++per_worker[idx];
  BOOST_TEST(per_worker.size() == 3u);
  for (auto& kvp : per_worker)
    BOOST_TEST(kvp.second == 2);
}

BOOST_AUTO_TEST_CASE(a_long_task_does_not_hold_up_the_tasks_behind_it) {
  p->react = [](int64_t x, int) { return reaction::reply_after(x == 0 ? 100ms : 10ms); };
  auto pool = make_pool(2);
  auto slow = ask(pool, 0);
  std::vector<std::shared_ptr<outcome<caf::message>>> fast;
  for (int64_t i = 1; i <= 3; ++i)
    fast.push_back(ask(pool, i));
  run();
  advance(30ms);
  // All three short tasks ran on the idle worker, one after another.
  for (auto& out : fast)
    BOOST_TEST(out->calls == 1);
  BOOST_TEST(!slow->done());
  BOOST_TEST(ms(fast[2]->at - fast[0]->at) == 20);
  advance(70ms);
  BOOST_TEST(has_value(slow, 0));
}

BOOST_AUTO_TEST_CASE(the_workers_errors_are_relayed_unchanged) {
  p->react = [](int64_t x, int) {
    return x == 2 ? reaction::fail_with(caf::make_error(error::not_owner), 5ms)
                  : reaction::reply_after(5ms);
  };
  auto pool = make_pool(2);
  auto ok = ask(pool, 1);
  auto bad = ask(pool, 2);
  run();
  advance(5ms);
  BOOST_TEST(has_value(ok, 10));
  BOOST_TEST(has_error(bad, error::not_owner));
  auto s = stats(pool);
  BOOST_TEST(s.completed == 1u);
  BOOST_TEST(s.failed == 1u);
  BOOST_TEST(p->spawned.size() == 2u); // a failing answer is not a crash
}

BOOST_AUTO_TEST_CASE(higher_priority_runs_first) {
  auto pool = make_pool(1);
  BOOST_TEST(!control(pool, caf::make_message(pause_atom_v)));
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  outs.push_back(ask(pool, 0, 1));
  outs.push_back(ask(pool, 0, 2));
  outs.push_back(ask(pool, 5, 3));
  outs.push_back(ask(pool, 1, 4));
  outs.push_back(ask(pool, 5, 5));
  outs.push_back(ask(pool, -3, 6));
  run();
  BOOST_TEST(p->calls == 0);
  BOOST_TEST(!control(pool, caf::make_message(resume_atom_v)));
  advance(60ms);
  BOOST_TEST(p->order == (std::vector<int64_t>{3, 5, 4, 1, 2, 6}));
  for (int64_t i = 0; i < 6; ++i)
    BOOST_TEST(has_value(outs[i], (i + 1) * 10));
}

BOOST_AUTO_TEST_CASE(equal_priorities_run_in_arrival_order) {
  auto pool = make_pool(1);
  for (int64_t i = 0; i < 20; ++i)
    ask(pool, 2, i);
  run();
  advance(200ms);
  std::vector<int64_t> expected;
  for (int64_t i = 0; i < 20; ++i)
    expected.push_back(i);
  BOOST_TEST(p->order == expected);
}

BOOST_AUTO_TEST_CASE(a_full_queue_refuses_the_newest_by_default) {
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.queue_capacity = 2;
  auto pool = make_pool(cfg);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 5; ++i)
    outs.push_back(ask(pool, i));
  run();
  // One runs, two wait, two are refused at once.
  BOOST_TEST(has_error(outs[3], error::overloaded));
  BOOST_TEST(has_error(outs[4], error::overloaded));
  BOOST_TEST(ms(outs[3]->at - now()) == 0);
  advance(30ms);
  for (int64_t i = 0; i < 3; ++i)
    BOOST_TEST(has_value(outs[i], i * 10));
  BOOST_TEST(stats(pool).rejected == 2u);
}

BOOST_AUTO_TEST_CASE(drop_oldest_answers_the_oldest_queued_task_dropped) {
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.queue_capacity = 2;
  cfg.overflow = overflow_policy::drop_oldest;
  auto pool = make_pool(cfg);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 5; ++i)
    outs.push_back(ask(pool, i));
  run();
  BOOST_TEST(has_error(outs[1], error::dropped));
  BOOST_TEST(has_error(outs[2], error::dropped));
  advance(30ms);
  BOOST_TEST(has_value(outs[0], 0));
  BOOST_TEST(has_value(outs[3], 30));
  BOOST_TEST(has_value(outs[4], 40));
  BOOST_TEST(stats(pool).dropped == 2u);
}

BOOST_AUTO_TEST_CASE(drop_oldest_drops_from_the_lowest_priority) {
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.queue_capacity = 2;
  cfg.overflow = overflow_policy::drop_oldest;
  auto pool = make_pool(cfg);
  auto running = ask(pool, 0, 0);
  auto high = ask(pool, 5, 1);
  auto low = ask(pool, 0, 2);
  auto mid = ask(pool, 3, 3);    // pushes out `low`
  auto lower = ask(pool, -1, 4); // lower than everything queued: refused itself
  run();
  BOOST_TEST(has_error(low, error::dropped));
  BOOST_TEST(has_error(lower, error::dropped));
  advance(30ms);
  BOOST_TEST(has_value(running, 0));
  BOOST_TEST(has_value(high, 10));
  BOOST_TEST(has_value(mid, 30));
  BOOST_TEST(p->order == (std::vector<int64_t>{0, 1, 3}));
}

BOOST_AUTO_TEST_CASE(
    a_stuck_task_times_out_at_the_exact_time_and_its_worker_is_replaced) {
  p->react = [](int64_t x, int) {
    return x == 1 ? reaction::never() : reaction::reply_after(10ms);
  };
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.task_timeout = 50ms;
  auto pool = make_pool(cfg);
  advance(5ms);
  auto stuck = ask(pool, 1);
  auto next = ask(pool, 2);
  run();
  advance(49ms);
  BOOST_TEST(!stuck->done());
  advance(1ms);
  BOOST_TEST(has_error(stuck, caf::sec::request_timeout));
  BOOST_TEST(ms(stuck->at - start_time()) == 55);
  // The stuck worker is gone, a fresh one took the waiting task.
  BOOST_TEST(p->spawned.size() == 2u);
  advance(10ms);
  BOOST_TEST(has_value(next, 20));
  BOOST_TEST(ms(next->at - start_time()) == 65);
  auto s = stats(pool);
  BOOST_TEST(s.timed_out == 1u);
  BOOST_TEST(s.replaced == 1u);
  BOOST_TEST(s.workers == 1u);
  BOOST_TEST(s.running == 0u);
}

BOOST_AUTO_TEST_CASE(tasks_waiting_past_the_queue_timeout_are_answered_and_never_run) {
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.queue_timeout = 25ms;
  cfg.task_timeout = 1h;
  auto pool = make_pool(cfg);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 1; i <= 5; ++i)
    outs.push_back(ask(pool, i));
  run();
  advance(24ms);
  BOOST_TEST(!outs[3]->done());
  advance(1ms);
  // 1 ran at 0 ms, 2 at 10 ms, 3 at 20 ms; 4 and 5 would start at 30 ms.
  BOOST_TEST(has_error(outs[3], error::overloaded));
  BOOST_TEST(has_error(outs[4], error::overloaded));
  BOOST_TEST(ms(outs[3]->at - start_time()) == 25);
  advance(10ms);
  for (int64_t i = 0; i < 3; ++i)
    BOOST_TEST(has_value(outs[i], (i + 1) * 10));
  BOOST_TEST(p->order == (std::vector<int64_t>{1, 2, 3}));
  auto s = stats(pool);
  BOOST_TEST(s.queue_timeouts == 2u);
  BOOST_TEST(s.completed == 3u);
  BOOST_TEST(s.queued == 0u);
}

BOOST_AUTO_TEST_CASE(without_a_task_timeout_the_queue_timer_leaves_running_tasks_be) {
  p->react = [](int64_t x, int) { return reaction::reply_after(x == 1 ? 50ms : 10ms); };
  auto pool = queue_pool(10ms);
  auto slow = ask(pool, 1);
  auto queued = ask(pool, 2);
  run();
  advance(10ms);
  BOOST_TEST(has_error(queued, error::overloaded));
  BOOST_TEST(!slow->done());
  advance(40ms);
  BOOST_TEST(has_value(slow, 10));
  BOOST_TEST(ms(slow->at - start_time()) == 50);
  BOOST_TEST(stats(pool).timed_out == 0u);
}

BOOST_AUTO_TEST_CASE(a_task_due_as_a_worker_frees_up_is_answered_not_run) {
  auto pool = queue_pool(10ms);
  auto first = ask(pool, 1);
  auto due = ask(pool, 2);
  run();
  // At 10 ms the worker answers task 1 and task 2's wait ends.
  advance(10ms);
  BOOST_TEST(has_value(first, 10));
  BOOST_TEST(has_error(due, error::overloaded));
  advance(20ms);
  BOOST_TEST(p->order == (std::vector<int64_t>{1}));
}

BOOST_AUTO_TEST_CASE(both_timeouts_keep_only_a_few_timers_pending) {
  p->react = [](int64_t x, int) {
    return x == 0 ? reaction::never() : reaction::reply_after(10ms);
  };
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.task_timeout = 1h;
  cfg.queue_timeout = 5ms;
  auto pool = make_pool(cfg);
  ask(pool, 0);
  run();
  size_t most = 0;
  for (int64_t i = 1; i <= 50; ++i) {
    auto out = ask(pool, i);
    run();
    advance(5ms);
    BOOST_TEST(has_error(out, error::overloaded));
    most = std::max(most, sched.clock().schedule().size());
  }
  // The task timeout's timer and the queue's, not one per queued task.
  BOOST_TEST(most <= 2u);
  BOOST_TEST(stats(pool).queue_timeouts == 50u);
}

BOOST_AUTO_TEST_CASE(a_drain_waits_for_queue_timeouts_too) {
  worker_pool_config cfg;
  cfg.queue_timeout = 20ms;
  auto pool = make_pool(cfg);
  BOOST_TEST(!control(pool, caf::make_message(pause_atom_v)));
  auto a = ask(pool, 1);
  run();
  auto drained = request_drain(pool);
  run();
  BOOST_TEST(!drained->done());
  advance(20ms);
  BOOST_TEST(has_error(a, error::overloaded));
  BOOST_REQUIRE(drained->done());
  BOOST_TEST(!*drained->value);
  BOOST_TEST(ms(drained->at - start_time()) == 20);
}

BOOST_AUTO_TEST_CASE(the_queue_timeout_counts_from_each_arrival_in_every_priority) {
  auto pool = queue_pool(30ms);
  BOOST_TEST(!control(pool, caf::make_message(pause_atom_v)));
  auto a = ask(pool, 5, 1);
  run();
  advance(10ms);
  auto b = ask(pool, 0, 2);
  run();
  advance(10ms);
  auto c = ask(pool, 5, 3);
  run();
  advance(100ms);
  BOOST_TEST(has_error(a, error::overloaded));
  BOOST_TEST(has_error(b, error::overloaded));
  BOOST_TEST(has_error(c, error::overloaded));
  BOOST_TEST(ms(a->at - start_time()) == 30);
  BOOST_TEST(ms(b->at - start_time()) == 40);
  BOOST_TEST(ms(c->at - start_time()) == 50);
  BOOST_TEST(p->calls == 0);
  BOOST_TEST(stats(pool).queue_timeouts == 3u);
}

BOOST_AUTO_TEST_CASE(a_redispatched_task_does_not_wait_on_the_queue_timeout_again) {
  p->react = [](int64_t x, int attempt) {
    if (x == 7 && attempt == 0)
      return reaction::die_with(caf::make_error(caf::sec::runtime_error), 5ms);
    return reaction::reply_after(10ms);
  };
  auto pool = queue_pool(20ms);
  auto crashing = ask(pool, 7);
  auto waiting = ask(pool, 1);
  run();
  advance(1ms);
  BOOST_TEST(!control(pool, caf::make_message(pause_atom_v)));
  // At 5 ms the worker crashes and task 7 goes back to the queue's front.
  advance(29ms);
  BOOST_TEST(has_error(waiting, error::overloaded));
  BOOST_TEST(ms(waiting->at - start_time()) == 20);
  BOOST_TEST(!crashing->done());
  BOOST_TEST(!control(pool, caf::make_message(resume_atom_v)));
  advance(10ms);
  BOOST_TEST(has_value(crashing, 70));
  auto s = stats(pool);
  BOOST_TEST(s.redelivered == 1u);
  BOOST_TEST(s.queue_timeouts == 1u);
}

BOOST_AUTO_TEST_CASE(timer_messages_from_other_actors_change_nothing) {
  std::shared_ptr<outcome<caf::message>> stuck;
  auto pool = pool_with_a_stuck_task(stuck);
  for (uint64_t seq = 0; seq < 4; ++seq)
    BOOST_TEST(!control(pool, caf::make_message(expire_atom_v, seq)));
  advance(49ms);
  BOOST_TEST(!stuck->done());
  BOOST_TEST(stats(pool).timed_out == 0u);
  advance(1ms);
  BOOST_TEST(has_error(stuck, caf::sec::request_timeout));
}

BOOST_AUTO_TEST_CASE(a_late_answer_after_the_timeout_is_discarded) {
  p->react = [](int64_t x, int) { return reaction::reply_after(x == 1 ? 80ms : 10ms); };
  worker_pool_config cfg;
  cfg.workers = 2;
  cfg.task_timeout = 50ms;
  auto pool = make_pool(cfg);
  auto late = ask(pool, 1);
  run();
  advance(200ms);
  BOOST_TEST(has_error(late, caf::sec::request_timeout));
  auto s = stats(pool);
  BOOST_TEST(s.completed == 0u);
  BOOST_TEST(s.timed_out == 1u);
  // Tasks finishing in time do not time out, and one timer serves them all.
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 2; i < 12; ++i)
    outs.push_back(ask(pool, i));
  run();
  advance(200ms);
  for (auto& out : outs)
    BOOST_TEST(out->calls == 1);
  BOOST_TEST(stats(pool).completed == 10u);
  BOOST_TEST(stats(pool).timed_out == 1u);
}

BOOST_AUTO_TEST_CASE(a_task_timeout_near_the_maximum_means_no_limit) {
  p->react = [](int64_t, int) { return reaction::reply_after(10min); };
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.task_timeout = caf::timespan::max() - caf::timespan{1};
  auto pool = make_pool(cfg);
  auto out = ask(pool, 3);
  run();
  advance(10min);
  BOOST_TEST(has_value(out, 30));
  BOOST_TEST(stats(pool).timed_out == 0u);
}

BOOST_AUTO_TEST_CASE(a_forwarded_request_is_answered_to_its_original_caller) {
  auto pool = make_pool(1);
  // A front actor that hands every request on to the pool.
  auto front = spawn([pool](caf::event_based_actor* self) -> caf::behavior {
    return {[=](ask_atom, int64_t x) { return self->delegate(pool, ask_atom_v, x); }};
  });
  auto out = ask(front, 6);
  run();
  advance(10ms);
  BOOST_TEST(has_value(out, 60));
}

BOOST_AUTO_TEST_CASE(tasks_sent_without_a_request_still_run) {
  auto pool = make_pool(1);
  caf::anon_send(pool, ask_atom_v, int64_t{1});
  caf::anon_send(pool, ask_atom_v, int64_t{2});
  run();
  advance(20ms);
  BOOST_TEST(p->calls == 2);
  BOOST_TEST(stats(pool).completed == 2u);
}

BOOST_AUTO_TEST_CASE(without_redeliveries_the_callers_message_goes_to_the_worker_as_is) {
  crash_on_one(10ms);
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.max_redeliveries = 0;
  auto pool = make_pool(cfg);
  auto crash = ask(pool, 1);
  auto queued = ask(pool, 2);
  auto wrapped = ask(pool, 5, 3);
  run();
  advance(5ms);
  BOOST_TEST(has_error(crash, caf::sec::runtime_error));
  advance(20ms);
  BOOST_TEST(has_value(queued, 20));
  BOOST_TEST(has_value(wrapped, 30));
  auto s = stats(pool);
  BOOST_TEST(s.redelivered == 0u);
  BOOST_TEST(s.quarantined == 1u);
}

BOOST_AUTO_TEST_CASE(a_redispatched_task_gets_its_content_as_sent) {
  // Strings take the pool's other way of keeping content (moved into a
  // shared message, not copied); numbers are copied (the other tests). The
  // first worker changes its argument in place, then dies with the task.
  auto seen = std::make_shared<std::vector<std::string>>();
  auto sizes = [seen](caf::actor_system& sys) {
    return sys.spawn([seen](caf::event_based_actor* self) -> caf::behavior {
      return {[=](ask_atom, std::string& s) -> caf::result<uint64_t> {
        seen->push_back(s);
        if (seen->size() == 1) {
          s = "changed";
          self->quit(caf::make_error(caf::sec::runtime_error));
          return caf::delegated<uint64_t>{};
        }
        return static_cast<uint64_t>(s.size());
      }};
    });
  };
  worker_pool_config cfg;
  cfg.workers = 1;
  auto pool = spawn_worker_pool(sys, cfg, sizes);
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  auto out = start<uint64_t>([pool = *pool](auto* self, auto done) {
    self->request(pool, caf::infinite, ask_atom_v, std::string{"twelve chars"})
        .then([=](uint64_t n) { done(n); });
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(*out->value == 12u);
  BOOST_TEST(*seen == (std::vector<std::string>{"twelve chars", "twelve chars"}));
  BOOST_TEST(stats(*pool).redelivered == 1u);
}

BOOST_AUTO_TEST_CASE(a_worker_exiting_normally_with_a_task_fails_it_with_a_real_error) {
  // The worker quits without an error while it holds the task.
  auto quitter = [](caf::actor_system& sys) {
    return sys.spawn([](caf::event_based_actor* self) -> caf::behavior {
      return {[=](ask_atom, int64_t) -> caf::result<int64_t> {
        self->quit();
        return caf::delegated<int64_t>{};
      }};
    });
  };
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.max_redeliveries = 0;
  auto pool = spawn_worker_pool(sys, cfg, quitter);
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  auto out = ask(*pool, 1);
  run();
  BOOST_TEST(has_error(out, caf::sec::request_receiver_down));
  BOOST_TEST(stats(*pool).quarantined == 1u);
}

BOOST_AUTO_TEST_CASE(a_pool_can_be_a_worker_of_another_pool) {
  // The inner pool answers some tasks at once (overloaded) from inside the
  // outer pool's dispatch: neither pool may deadlock or lose an answer.
  p->react = [](int64_t, int) { return reaction::reply_after(10ms); };
  worker_pool_config inner_cfg;
  inner_cfg.workers = 1;
  inner_cfg.queue_capacity = 1;
  auto inner = make_pool(inner_cfg);
  worker_pool_config outer_cfg;
  outer_cfg.max_in_flight_per_worker = 4;
  auto outer = spawn_worker_pool(sys, outer_cfg, std::vector<caf::actor>{inner});
  BOOST_REQUIRE(outer);
  pools.push_back(*outer);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 4; ++i)
    outs.push_back(ask(*outer, i));
  run();
  advance(30ms);
  BOOST_TEST(has_value(outs[0], 0));
  BOOST_TEST(has_value(outs[1], 10));
  BOOST_TEST(has_error(outs[2], error::overloaded));
  BOOST_TEST(has_error(outs[3], error::overloaded));
  auto s = stats(*outer);
  BOOST_TEST(s.completed == 2u);
  BOOST_TEST(s.failed == 2u);
}

BOOST_AUTO_TEST_CASE(a_pool_nobody_holds_answers_its_queued_callers) {
  // The last handle is gone: the pool is destroyed and answers.
  auto out = task_of_dropped_pool([](const caf::actor&) {});
  BOOST_TEST(has_error(out, caf::exit_reason::unreachable));
}

BOOST_AUTO_TEST_CASE(a_factory_may_message_its_own_pool) {
  // The factory runs inside the pool; what it sends the pool is handled
  // right after, not deadlocked.
  p->react = [](int64_t x, int attempt) {
    return x == 1 && attempt == 0
               ? reaction::die_with(caf::make_error(caf::sec::runtime_error), 5ms)
               : reaction::reply_after(10ms);
  };
  auto slot = std::make_shared<caf::actor>();
  auto inner = factory();
  worker_pool_config cfg;
  cfg.workers = 1;
  auto pool = spawn_worker_pool(sys, cfg, [slot, inner](caf::actor_system& sys) {
    if (*slot)
      caf::anon_send(*slot, ask_atom_v, int64_t{9});
    return inner(sys);
  });
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  *slot = *pool;
  auto out = ask(*pool, 1);
  run();
  advance(50ms);
  BOOST_TEST(has_value(out, 10));
  BOOST_TEST(p->attempts[9] == 1);
  BOOST_TEST(stats(*pool).completed == 2u);
  *slot = nullptr;
}

BOOST_AUTO_TEST_CASE(a_live_worker_relaying_request_receiver_down_is_not_replaced) {
  // Only a bounce from a dead worker's mailbox (which has no sender) means
  // the worker is gone; a worker may pass that error on from elsewhere.
  p->react = [](int64_t, int) {
    return reaction::fail_with(caf::make_error(caf::sec::request_receiver_down), 5ms);
  };
  auto pool = make_pool(1);
  auto out = ask(pool, 1);
  run();
  advance(5ms);
  BOOST_TEST(has_error(out, caf::sec::request_receiver_down));
  auto s = stats(pool);
  BOOST_TEST(s.failed == 1u);
  BOOST_TEST(s.replaced == 0u);
  BOOST_TEST(s.redelivered == 0u);
  BOOST_TEST(p->spawned.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_worker_delegating_to_a_dead_actor_has_answered_not_crashed) {
  // The bounce of a delegated request reaches the pool without a sender, as
  // one from a dead worker's mailbox would; the worker itself lives on.
  auto backend = dead_backend();
  auto runs = std::make_shared<int>(0);
  auto w = spawn(delegating_worker, backend, runs);
  // Handed in without a factory: taking it for crashed would leave the pool
  // without workers.
  auto pool = spawn_worker_pool(sys, worker_pool_config{}, std::vector<caf::actor>{w});
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  // The bounce is the task's answer, and the same worker takes the next.
  bounce_then_answer(*pool, runs);
  BOOST_TEST(!caf::actor_cast<caf::abstract_actor*>(w)->getf(
      caf::abstract_actor::is_terminated_flag));
  auto s = stats(*pool);
  BOOST_TEST(s.workers == 1u);
  BOOST_TEST(s.failed == 1u);
  BOOST_TEST(s.completed == 1u);
  BOOST_TEST(s.redelivered == 0u);
  BOOST_TEST(s.replaced == 0u);
  caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_bounce_relayed_by_an_inner_pool_is_its_answer_not_its_crash) {
  // The inner pool relays its worker's bounced delegation; the outer pool,
  // which cannot look into the inner one, must not take it for the inner
  // pool's crash.
  auto backend = dead_backend();
  auto runs = std::make_shared<int>(0);
  worker_pool_config inner_cfg;
  inner_cfg.workers = 1;
  auto inner = spawn_worker_pool(sys, inner_cfg, [=](caf::actor_system& s) {
    return s.spawn(delegating_worker, backend, runs);
  });
  BOOST_REQUIRE(inner);
  pools.push_back(*inner);
  auto outer =
      spawn_worker_pool(sys, worker_pool_config{}, std::vector<caf::actor>{*inner});
  BOOST_REQUIRE(outer);
  pools.push_back(*outer);
  // The bounce is the task's answer, and the same worker takes the next.
  bounce_then_answer(*outer, runs);
  auto s = stats(*outer);
  BOOST_TEST(s.workers == 1u);
  BOOST_TEST(s.replaced == 0u);
  BOOST_TEST(s.failed == 1u);
  BOOST_TEST(stats(*inner).replaced == 0u);
}

BOOST_AUTO_TEST_CASE(an_error_answered_after_the_worker_quit_counts_as_its_crash) {
  // The worker quits, then answers: it answered while terminating, so the
  // task runs again on its replacement.
  auto attempts = std::make_shared<int>(0);
  worker_pool_config cfg;
  cfg.workers = 1;
  auto pool = spawn_worker_pool(sys, cfg, [attempts](caf::actor_system& sys) {
    return sys.spawn([attempts](caf::event_based_actor* self) -> caf::behavior {
      return {[=](ask_atom, int64_t x) -> caf::result<int64_t> {
        if ((*attempts)++ > 0)
          return x;
        auto rp = self->make_response_promise<int64_t>();
        self->quit(caf::make_error(caf::sec::runtime_error, "crashed"));
        rp.deliver(caf::make_error(caf::sec::runtime_error, "answered while quitting"));
        return rp;
      }};
    });
  });
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  auto out = ask(*pool, 5);
  run();
  BOOST_TEST(has_value(out, 5));
  BOOST_TEST(*attempts == 2);
  auto s = stats(*pool);
  BOOST_TEST(s.redelivered == 1u);
  BOOST_TEST(s.replaced == 1u);
  BOOST_TEST(s.failed == 0u);
}

BOOST_AUTO_TEST_CASE(a_shrink_is_cancelled_when_only_leaving_workers_remain) {
  crash_on_one(10ms);
  worker_pool_config cfg;
  cfg.max_redeliveries = 0;
  auto a = spawn(probe_worker, p);
  auto b = spawn(probe_worker, p);
  auto pool = spawn_worker_pool(sys, cfg, std::vector<caf::actor>{a, b});
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  shrink_then_crash(*pool, 30ms);
}

BOOST_AUTO_TEST_CASE(a_throwing_factory_counts_as_a_failed_start) {
  crash_on_one(10ms);
  worker_pool_config cfg;
  cfg.workers = 2;
  cfg.max_redeliveries = 0;
  auto pool = spawn_worker_pool(sys, cfg, failing_after(2, true));
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  auto crash = ask(*pool, 1);
  run();
  advance(5ms);
  BOOST_TEST(has_error(crash, caf::sec::runtime_error));
  // The pool goes on with the worker it has.
  auto next = ask(*pool, 2);
  run();
  advance(10ms);
  BOOST_TEST(has_value(next, 20));
  BOOST_TEST(stats(*pool).workers == 1u);
}

BOOST_AUTO_TEST_CASE(subscribers_hear_of_every_change) {
  p->react = [](int64_t x, int) {
    if (x == 1)
      return reaction::die_with(caf::make_error(caf::sec::runtime_error), 5ms);
    if (x == 2)
      return reaction::never();
    return reaction::reply_after(10ms);
  };
  worker_pool_config cfg;
  cfg.workers = 2;
  cfg.max_redeliveries = 0;
  cfg.task_timeout = 50ms;
  auto pool = make_pool(cfg);
  auto events = subscribe_listener(pool);
  auto crash = ask(pool, 1);
  auto stuck = ask(pool, 2);
  run();
  advance(60ms);
  BOOST_TEST(!control(pool, caf::make_message(pause_atom_v)));
  BOOST_TEST(!control(pool, caf::make_message(resume_atom_v)));
  BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{3})));
  BOOST_TEST(!control(pool, caf::make_message(shutdown_atom_v)));
  run();
  auto kinds = kinds_of(*events);
  std::vector<std::string> expected{
      "task_quarantined", "worker_replaced", "task_timed_out", "worker_replaced",
      "paused",           "resumed",         "resized",        "stopped"};
  BOOST_TEST(kinds == expected, boost::test_tools::per_element());
  BOOST_REQUIRE(events->size() == expected.size());
  BOOST_TEST((*events)[0].reason.find("runtime_error") != std::string::npos);
  BOOST_TEST((*events)[2].task == 1u);
  BOOST_TEST((*events)[6].workers == 3u);
  BOOST_TEST((*events)[7].workers == 0u);
}

BOOST_AUTO_TEST_CASE(subscriptions_are_bounded_and_dead_subscribers_dropped) {
  worker_pool_config cfg;
  cfg.max_subscribers = 1;
  auto pool = make_pool(cfg);
  auto quiet = [](caf::event_based_actor*) -> caf::behavior {
    return {[](worker_pool_event&) {}};
  };
  auto a = spawn(quiet);
  auto b = spawn(quiet);
  BOOST_TEST(!control(pool, caf::make_message(subscribe_atom_v, a)));
  BOOST_TEST(!control(pool, caf::make_message(subscribe_atom_v, a)));
  BOOST_TEST(control(pool, caf::make_message(subscribe_atom_v, b)) == error::overloaded);
  BOOST_TEST(control(pool, caf::make_message(subscribe_atom_v, caf::actor{})) ==
             error::invalid_config);
  kill(a);
  BOOST_TEST(!control(pool, caf::make_message(subscribe_atom_v, b)));
  BOOST_TEST(!control(pool, caf::make_message(unsubscribe_atom_v, b)));
  auto c = spawn(quiet);
  BOOST_TEST(!control(pool, caf::make_message(subscribe_atom_v, c)));
}

BOOST_AUTO_TEST_CASE(a_worker_that_unsubscribes_is_still_watched_as_a_worker) {
  p->react = [](int64_t x, int attempt) {
    return x == 1 && attempt == 0
               ? reaction::die_with(caf::make_error(caf::sec::runtime_error), 5ms)
               : reaction::reply_after(10ms);
  };
  auto w = spawn(probe_worker, p);
  auto pool =
      spawn_worker_pool(sys, worker_pool_config{}, std::vector<caf::actor>{w}, factory());
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  BOOST_TEST(!control(*pool, caf::make_message(subscribe_atom_v, w)));
  BOOST_TEST(!control(*pool, caf::make_message(unsubscribe_atom_v, w)));
  auto out = ask(*pool, 1);
  run();
  advance(20ms);
  // The crash was seen: the task ran again on a replacement.
  BOOST_TEST(has_value(out, 10));
  BOOST_TEST(stats(*pool).replaced == 1u);
}

BOOST_AUTO_TEST_CASE(a_subscriber_holding_the_pool_does_not_keep_it_alive) {
  // Only the pool knows the listener and only the listener holds the pool:
  // once the test lets go, both must go, and the queued caller hears of it.
  auto out = task_of_dropped_pool([this](const caf::actor& pool) {
    auto listener = sys.spawn([pool](caf::event_based_actor*) -> caf::behavior {
      return {[pool](worker_pool_event&) {}};
    });
    BOOST_TEST(!control(pool, caf::make_message(subscribe_atom_v, listener)));
  });
  BOOST_TEST(has_error(out, caf::exit_reason::unreachable));
}

BOOST_AUTO_TEST_CASE(a_crashed_workers_task_is_redispatched) {
  p->react = [](int64_t x, int attempt) {
    if (x == 7 && attempt == 0)
      return reaction::die_with(caf::make_error(caf::sec::runtime_error), 5ms);
    return reaction::reply_after(10ms);
  };
  auto pool = make_pool(2);
  auto crashing = ask(pool, 7);
  auto other = ask(pool, 1);
  run();
  advance(5ms);
  BOOST_TEST(!crashing->done());
  BOOST_TEST(p->spawned.size() == 3u);
  advance(10ms);
  BOOST_TEST(has_value(crashing, 70));
  BOOST_TEST(has_value(other, 10));
  BOOST_TEST(ms(crashing->at - start_time()) == 15);
  auto s = stats(pool);
  BOOST_TEST(s.redelivered == 1u);
  BOOST_TEST(s.replaced == 1u);
  BOOST_TEST(s.quarantined == 0u);
  BOOST_TEST(s.workers == 2u);
}

BOOST_AUTO_TEST_CASE(a_task_crashing_every_worker_is_quarantined) {
  p->react = [](int64_t x, int) {
    if (x == 13)
      return reaction::die_with(caf::make_error(caf::sec::runtime_error, "poison"), 1ms);
    return reaction::reply_after(10ms);
  };
  worker_pool_config cfg;
  cfg.workers = 2;
  cfg.max_redeliveries = 2;
  auto pool = make_pool(cfg);
  auto poison = ask(pool, 13);
  std::vector<std::shared_ptr<outcome<caf::message>>> others;
  for (int64_t i = 0; i < 4; ++i)
    others.push_back(ask(pool, i));
  run();
  advance(100ms);
  BOOST_TEST(has_error(poison, caf::sec::runtime_error));
  BOOST_TEST(p->attempts[13] == 3);
  for (int64_t i = 0; i < 4; ++i)
    BOOST_TEST(has_value(others[i], i * 10));
  auto s = stats(pool);
  BOOST_TEST(s.redelivered == 2u);
  BOOST_TEST(s.quarantined == 1u);
  BOOST_TEST(s.replaced == 3u);
  BOOST_TEST(s.workers == 2u);
}

BOOST_AUTO_TEST_CASE(a_crash_loop_is_replaced_after_a_doubling_back_off) {
  // Task 1 crashes its worker 1 ms into each of its first four runs.
  p->react = [](int64_t x, int attempt) {
    if (x == 1 && attempt < 4)
      return reaction::die_with(caf::make_error(caf::sec::runtime_error), 1ms);
    return reaction::reply_after(10ms);
  };
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.max_redeliveries = 4;
  cfg.restart_backoff = 100ms;
  cfg.restart_backoff_max = 400ms;
  cfg.restart_backoff_reset = 1s;
  auto pool = make_pool(cfg);
  auto events = subscribe_listener(pool);
  auto out = ask(pool, 1);
  auto behind = ask(pool, 2);
  run();
  advance(1ms);
  // No worker left, one on its way: the pool stays, the tasks wait.
  auto s = stats(pool);
  BOOST_TEST(s.workers == 0u);
  BOOST_TEST(s.restarting == 1u);
  BOOST_TEST(s.queued == 2u);
  BOOST_TEST(p->spawned.size() == 1u);
  advance(99ms);
  BOOST_TEST(p->spawned.size() == 1u);
  advance(1ms); // 101 ms: the replacement starts, crashes at 102 ms
  BOOST_TEST(p->spawned.size() == 2u);
  advance(200ms); // 302 ms: after 200 ms, crashes at 303 ms
  BOOST_TEST(p->spawned.size() == 2u);
  advance(1ms);
  BOOST_TEST(p->spawned.size() == 3u);
  advance(400ms); // 703 ms: after 400 ms, crashes at 704 ms
  BOOST_TEST(p->spawned.size() == 3u);
  advance(1ms);
  BOOST_TEST(p->spawned.size() == 4u);
  advance(400ms); // 1104 ms: capped at 400 ms; this run of task 1 succeeds
  BOOST_TEST(p->spawned.size() == 4u);
  advance(1ms);
  BOOST_TEST(p->spawned.size() == 5u);
  advance(20ms);
  BOOST_TEST(has_value(out, 10));
  BOOST_TEST(ms(out->at - start_time()) == 1114);
  BOOST_TEST(has_value(behind, 20));
  BOOST_TEST(ms(behind->at - start_time()) == 1124);
  s = stats(pool);
  BOOST_TEST(s.workers == 1u);
  BOOST_TEST(s.restarting == 0u);
  BOOST_TEST(s.replaced == 4u);
  BOOST_TEST(s.redelivered == 4u);
  std::vector<uint64_t> delays;
  for (auto& ev : *events)
    if (ev.kind == pool_event::restart_delayed) {
      delays.push_back(ev.task);
      BOOST_TEST(ev.reason.find("runtime_error") != std::string::npos);
    }
  std::vector<uint64_t> expected{100, 200, 400, 400};
  BOOST_TEST(delays == expected, boost::test_tools::per_element());
  // A worker that ran longer than restart_backoff_reset ends the row: it is
  // replaced at once, and the next quick loss waits the first back-off again.
  advance(2s);
  kill(p->spawned.back());
  BOOST_TEST(p->spawned.size() == 6u);
  BOOST_TEST(stats(pool).restarting == 0u);
  kill(p->spawned.back());
  BOOST_TEST(p->spawned.size() == 6u);
  BOOST_TEST(stats(pool).restarting == 1u);
  advance(100ms);
  BOOST_TEST(p->spawned.size() == 7u);
  BOOST_REQUIRE(!events->empty());
  BOOST_TEST(std::string{to_string(events->back().kind)} == "worker_replaced");
  BOOST_TEST(events->back().reason.find("kill") != std::string::npos);
  // A worker started by a grow has a row of its own: lost at once, it waits
  // the first back-off.
  advance(2s);
  BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{2})));
  BOOST_REQUIRE(p->spawned.size() == 8u);
  kill(p->spawned.back());
  advance(99ms);
  BOOST_TEST(p->spawned.size() == 8u);
  advance(1ms);
  BOOST_TEST(p->spawned.size() == 9u);
}

BOOST_AUTO_TEST_CASE(replacements_waiting_for_back_off_count_in_a_resize) {
  worker_pool_config cfg;
  cfg.workers = 2;
  cfg.restart_backoff = 100ms;
  auto pool = make_pool(cfg);
  auto events = subscribe_listener(pool);
  kill(p->spawned[0]);
  auto s = stats(pool);
  BOOST_TEST(s.workers == 1u);
  BOOST_TEST(s.restarting == 1u);
  // Shrinking to 1 drops the replacement, not the live worker.
  BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{1})));
  s = stats(pool);
  BOOST_TEST(s.workers == 1u);
  BOOST_TEST(s.restarting == 0u);
  run();
  std::vector<std::string> expected{"restart_delayed", "restart_cancelled", "resized"};
  BOOST_TEST(kinds_of(*events) == expected, boost::test_tools::per_element());
  BOOST_REQUIRE(events->size() == 3u);
  BOOST_TEST((*events)[1].task == 1u);
  advance(1s);
  BOOST_TEST(p->spawned.size() == 2u);
  BOOST_TEST(stats(pool).workers == 1u);
  // Its last worker lost too, the pool waits for a replacement instead of
  // exiting; growing to 3 starts only the two workers beyond it.
  kill(p->spawned[1]);
  BOOST_TEST(stats(pool).restarting == 1u);
  BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{3})));
  BOOST_TEST(p->spawned.size() == 4u);
  s = stats(pool);
  BOOST_TEST(s.workers == 2u);
  BOOST_TEST(s.restarting == 1u);
  // The first quick loss in that place: the first back-off.
  advance(99ms);
  BOOST_TEST(p->spawned.size() == 4u);
  advance(1ms);
  BOOST_TEST(p->spawned.size() == 5u);
  s = stats(pool);
  BOOST_TEST(s.workers == 3u);
  BOOST_TEST(s.restarting == 0u);
}

BOOST_AUTO_TEST_CASE(workers_lost_together_each_wait_their_own_back_off) {
  // Every worker dies at once (say their dependency went down): each place
  // keeps its own row, so all wait the first back-off, not 1x, 2x, 4x.
  worker_pool_config cfg;
  cfg.workers = 3;
  cfg.restart_backoff = 100ms;
  cfg.restart_backoff_reset = 1s;
  auto pool = make_pool(cfg);
  auto events = subscribe_listener(pool);
  for (size_t i = 0; i < 3; ++i)
    kill(p->spawned[i]);
  BOOST_TEST(stats(pool).restarting == 3u);
  advance(99ms);
  BOOST_TEST(p->spawned.size() == 3u);
  advance(1ms);
  BOOST_TEST(p->spawned.size() == 6u);
  BOOST_TEST(stats(pool).workers == 3u);
  // Two of the replacements die at once too: the second quick loss in their
  // places waits twice as long; the third place goes on.
  kill(p->spawned[3]);
  kill(p->spawned[4]);
  advance(199ms);
  BOOST_TEST(p->spawned.size() == 6u);
  advance(1ms);
  BOOST_TEST(p->spawned.size() == 8u);
  // The third replacement ran restart_backoff_reset: its loss is replaced at
  // once, and the next quick loss in its place waits the first back-off.
  advance(1s);
  kill(p->spawned[5]);
  BOOST_TEST(p->spawned.size() == 9u);
  kill(p->spawned[8]);
  advance(99ms);
  BOOST_TEST(p->spawned.size() == 9u);
  advance(1ms);
  BOOST_TEST(p->spawned.size() == 10u);
  std::vector<uint64_t> delays;
  for (auto& ev : *events)
    if (ev.kind == pool_event::restart_delayed)
      delays.push_back(ev.task);
  std::vector<uint64_t> expected{100, 100, 100, 200, 200, 100};
  BOOST_TEST(delays == expected, boost::test_tools::per_element());
  auto s = stats(pool);
  BOOST_TEST(s.workers == 3u);
  BOOST_TEST(s.restarting == 0u);
  BOOST_TEST(s.replaced == 7u);
}

BOOST_AUTO_TEST_CASE(leaving_workers_kept_in_place_of_replacements_cancel_them) {
  // Four workers each run one long task (two slots each); a shrink to 2 makes
  // two of them leave once their task is done. Tasks 5 and 6 go to the two
  // that stay (the only free slots) and crash them: the first waits 100 ms
  // for its replacement; when the second goes, no other worker is left, so
  // both leaving workers stay in place of the two replacements. The one
  // already announced is cancelled; the other is replaced by a leaver.
  p->react = [](int64_t x, int) {
    if (x == 5 || x == 6)
      return reaction::die_with(caf::make_error(caf::sec::runtime_error),
                                x == 5 ? 5ms : 10ms);
    return reaction::reply_after(10s);
  };
  worker_pool_config cfg;
  cfg.workers = 4;
  cfg.max_in_flight_per_worker = 2;
  cfg.max_redeliveries = 0;
  cfg.restart_backoff = 100ms;
  auto pool = make_pool(cfg);
  auto events = subscribe_listener(pool);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 1; i <= 4; ++i)
    outs.push_back(ask(pool, i));
  run();
  BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{2})));
  auto crash5 = ask(pool, 5);
  auto crash6 = ask(pool, 6);
  run();
  advance(5ms);
  BOOST_TEST(has_error(crash5, caf::sec::runtime_error));
  auto s = stats(pool);
  BOOST_TEST(s.workers == 1u);
  BOOST_TEST(s.restarting == 1u);
  advance(5ms);
  BOOST_TEST(has_error(crash6, caf::sec::runtime_error));
  s = stats(pool);
  BOOST_TEST(s.workers == 2u);
  BOOST_TEST(s.restarting == 0u);
  std::vector<worker_pool_event> changes;
  for (auto& ev : *events)
    if (ev.kind != pool_event::task_quarantined)
      changes.push_back(ev);
  std::vector<std::string> expected{"resized", "restart_delayed", "restart_cancelled",
                                    "worker_replaced"};
  BOOST_TEST(kinds_of(changes) == expected, boost::test_tools::per_element());
  BOOST_REQUIRE(changes.size() == 4u);
  BOOST_TEST(changes[2].task == 1u);
  BOOST_TEST(changes[3].reason.find("runtime_error") != std::string::npos);
  // Nobody starts later: the pool has the two workers it was given.
  advance(1s);
  BOOST_TEST(p->spawned.size() == 4u);
  BOOST_TEST(stats(pool).workers == 2u);
}

/// Three workers each run one long task (two slots each); a shrink to 1 makes
/// two of them leave once their task is done; task 4 then goes to the one
/// that stays (the only free slot) and crashes it. Returns the stats a second
/// later.
static worker_pool_stats shrink_then_crash_the_stayer(fixture& f,
                                                      const caf::actor& pool) {
  auto t4 = f.ask(pool, 4);
  f.run();
  f.advance(5ms);
  BOOST_TEST(has_error(t4, caf::sec::runtime_error));
  f.advance(1s);
  return f.stats(pool);
}

BOOST_AUTO_TEST_CASE(a_pool_keeps_its_size_when_the_worker_that_stays_is_lost) {
  for (auto backoff : {caf::timespan{0}, caf::timespan{100ms}}) {
    for (bool with_factory : {true, false}) {
      BOOST_TEST_CONTEXT("back-off " << backoff.count() << ", factory " << with_factory) {
        p->react = [](int64_t x, int) {
          return x == 4
                     ? reaction::die_with(caf::make_error(caf::sec::runtime_error), 5ms)
                     : reaction::reply_after(50ms);
        };
        worker_pool_config cfg;
        cfg.workers = 3;
        cfg.max_in_flight_per_worker = 2;
        cfg.max_redeliveries = 0;
        cfg.restart_backoff = backoff;
        caf::actor pool;
        if (with_factory) {
          pool = make_pool(cfg);
        } else {
          std::vector<caf::actor> ws{spawn(probe_worker, p), spawn(probe_worker, p),
                                     spawn(probe_worker, p)};
          auto x = spawn_worker_pool(sys, cfg, ws);
          BOOST_REQUIRE(x);
          pool = *x;
          pools.push_back(pool);
        }
        auto events = subscribe_listener(pool);
        std::vector<std::shared_ptr<outcome<caf::message>>> outs;
        for (int64_t i = 1; i <= 3; ++i)
          outs.push_back(ask(pool, i));
        run();
        BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{1})));
        auto s = shrink_then_crash_the_stayer(*this, pool);
        BOOST_TEST(s.workers == 1u);
        BOOST_TEST(s.restarting == 0u);
        // The leavers' tasks finished; the stayer's died with it.
        size_t values = 0;
        for (size_t i = 0; i < outs.size(); ++i)
          if (has_value(outs[i], static_cast<int64_t>(i + 1) * 10))
            ++values;
        BOOST_TEST(values == 2u);
        // The lost worker is replaced (by a new one, or by a leaving one
        // that stays) or reported lost, once; no restart waits.
        auto kinds = kinds_of(*events);
        auto count = [&](const char* kind) {
          return std::count(kinds.begin(), kinds.end(), kind);
        };
        BOOST_TEST(count("worker_replaced") + count("worker_lost") == 1);
        BOOST_TEST(count("restart_delayed") == 0);
        caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
        run();
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_task_beside_a_stuck_one_on_a_handed_in_worker_keeps_running) {
  // The pool drops (never stops) a worker the user handed in when a task on
  // it times out; the task beside it still runs there and is answered in
  // time, once, and not run a second time elsewhere.
  auto cfg = beside_a_stuck_task(2);
  auto w = spawn(probe_worker, p);
  auto pool = pool_over(w, cfg);
  auto beside = time_out_beside(pool);
  BOOST_TEST(!beside->done());
  auto s = stats(pool);
  BOOST_TEST(s.running == 1u);
  BOOST_TEST(s.redelivered == 0u);
  advance(20ms); // 70 ms: task 2 answered after its 40 ms
  BOOST_TEST(has_value(beside, 20));
  BOOST_TEST(beside->calls == 1);
  BOOST_TEST(p->attempts[2] == 1);
  s = stats(pool);
  BOOST_TEST(s.running == 0u);
  BOOST_TEST(s.completed == 1u);
}

BOOST_AUTO_TEST_CASE(a_dropped_worker_that_crashes_takes_the_task_beside_with_it) {
  // The pool keeps watching a handed-in worker it dropped while a task still
  // runs on it: when that worker crashes, the task runs again at once, as on
  // any crash, instead of waiting for its own timeout.
  auto cfg = beside_a_stuck_task(2);
  auto w = spawn(probe_worker, p);
  auto pool = pool_over(w, cfg);
  auto beside = time_out_beside(pool); // 50 ms: task 2 still runs on w
  BOOST_TEST(!beside->done());
  kill(w);
  auto s = stats(pool);
  BOOST_TEST(s.redelivered == 1u);
  BOOST_TEST(p->attempts[2] == 2); // on the replacement
  advance(40ms);
  BOOST_TEST(has_value(beside, 20));
  BOOST_TEST(ms(beside->at - start_time()) == 90);
}

BOOST_AUTO_TEST_CASE(a_dropped_worker_is_not_taken_back_as_its_own_replacement) {
  // The pool still watches w1 for the task beside the one that timed out: a
  // factory that hands w1 back is refused, as for any worker the pool has.
  p->react = [](int64_t x, int) {
    return x == 1 ? reaction::never() : reaction::reply_after(x == 2 ? 40ms : 10ms);
  };
  worker_pool_config cfg;
  cfg.max_in_flight_per_worker = 2;
  cfg.task_timeout = 50ms;
  auto w1 = spawn(probe_worker, p);
  auto w2 = spawn(probe_worker, p);
  auto pool = spawn_worker_pool(sys, cfg, std::vector<caf::actor>{w1, w2},
                                [w1](caf::actor_system&) { return w1; });
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  run();
  auto events = subscribe_listener(*pool);
  auto one = ask(*pool, 1);   // w1
  auto three = ask(*pool, 3); // w2
  run();
  advance(30ms);
  auto two = ask(*pool, 2); // w1, beside 1
  run();
  advance(20ms); // 50 ms: 1 times out, w1 is dropped
  BOOST_TEST(has_error(one, caf::sec::request_timeout));
  auto kinds = kinds_of(*events);
  BOOST_TEST((std::find(kinds.begin(), kinds.end(), "worker_lost") != kinds.end()));
  BOOST_TEST((std::find(kinds.begin(), kinds.end(), "worker_replaced") == kinds.end()));
  BOOST_TEST(stats(*pool).workers == 1u);
  advance(20ms); // 70 ms: 2 answered by w1
  BOOST_TEST(has_value(two, 20));
  BOOST_TEST(has_value(three, 30));
}

BOOST_AUTO_TEST_CASE(a_dropped_worker_is_let_go_once_its_last_task_is_done) {
  auto cfg = beside_a_stuck_task(2);
  auto w = spawn(probe_worker, p);
  auto pool = pool_over(w, cfg);
  auto events = subscribe_listener(pool);
  auto beside = time_out_beside(pool);
  advance(20ms); // 70 ms: task 2 answered by w
  BOOST_TEST(has_value(beside, 20));
  auto before = stats(pool);
  auto n = events->size();
  kill(w); // no longer the pool's: nothing happens
  auto after = stats(pool);
  BOOST_TEST(after.redelivered == before.redelivered);
  BOOST_TEST(after.replaced == before.replaced);
  BOOST_TEST(after.workers == before.workers);
  BOOST_TEST(events->size() == n);
}

BOOST_AUTO_TEST_CASE(a_task_beside_a_stuck_one_runs_again_without_counting_a_redelivery) {
  // The pool stops a worker it made when a task on it times out. The task
  // beside it did nothing wrong: it runs again without using up one of its
  // redeliveries. Here its rerun crashes that worker, which uses the one
  // redelivery it has, and its third run succeeds.
  auto pool = make_pool(beside_a_stuck_task(1));
  p->react = [](int64_t x, int attempt) {
    if (x != 2)
      return reaction::never();
    return attempt == 1
               ? reaction::die_with(caf::make_error(caf::sec::runtime_error), 5ms)
               : reaction::reply_after(40ms);
  };
  auto beside = time_out_beside(pool); // 50 ms: its worker replaced, 2 reruns
  BOOST_TEST(!beside->done());
  advance(5ms); // 55 ms: the rerun crashes its worker, 2 runs a third time
  BOOST_TEST(!beside->done());
  advance(40ms); // 95 ms
  BOOST_TEST(has_value(beside, 20));
  BOOST_TEST(p->attempts[2] == 3);
  auto s = stats(pool);
  BOOST_TEST(s.redelivered == 2u);
  BOOST_TEST(s.quarantined == 0u);
  BOOST_TEST(s.timed_out == 1u);
}

BOOST_AUTO_TEST_CASE(a_task_beside_a_stuck_one_is_not_held_to_the_queue_timeout) {
  // Back in the queue after running, it is not a task that waited too long.
  auto cfg = beside_a_stuck_task(1);
  cfg.queue_timeout = 20ms;
  auto pool = make_pool(cfg);
  auto beside = time_out_beside(pool); // 50 ms: arrived at 30 ms
  BOOST_TEST(!beside->done());
  advance(40ms);
  BOOST_TEST(has_value(beside, 20));
  BOOST_TEST(stats(pool).queue_timeouts == 0u);
}

BOOST_AUTO_TEST_CASE(only_the_first_rerun_beside_a_stuck_task_is_free) {
  // Task 2 runs beside task 1 on worker a, then (after 1 times out) beside
  // the older task 3 on worker b, which times out too: that second rerun
  // counts as its one redelivery, so when its third run crashes its worker,
  // it is quarantined. Otherwise a task could run again without end.
  p->react = [](int64_t x, int attempt) {
    if (x != 2)
      return reaction::never();
    return attempt == 2
               ? reaction::die_with(caf::make_error(caf::sec::runtime_error), 5ms)
               : reaction::reply_after(40ms);
  };
  worker_pool_config cfg;
  cfg.workers = 2;
  cfg.max_in_flight_per_worker = 2;
  cfg.task_timeout = 50ms;
  cfg.max_redeliveries = 1;
  auto pool = make_pool(cfg);
  auto one = ask(pool, 1); // on a, times out at 50 ms
  run();
  advance(10ms);
  auto three = ask(pool, 3); // on b, times out at 60 ms
  run();
  advance(20ms);
  auto two = ask(pool, 2); // 30 ms: on a, beside 1
  run();
  advance(20ms); // 50 ms: 2 reruns on b, beside 3
  BOOST_TEST(has_error(one, caf::sec::request_timeout));
  advance(10ms); // 60 ms: 3 times out, 2 reruns again
  BOOST_TEST(has_error(three, caf::sec::request_timeout));
  BOOST_TEST(!two->done());
  advance(5ms); // 65 ms: its third run crashes its worker
  BOOST_TEST(has_error(two, caf::sec::runtime_error));
  BOOST_TEST(p->attempts[2] == 3);
  auto s = stats(pool);
  BOOST_TEST(s.quarantined == 1u);
  BOOST_TEST(s.redelivered == 2u);
}

BOOST_AUTO_TEST_CASE(a_task_beside_stuck_ones_past_its_redeliveries_ends_as_its_worker) {
  // Task 2 runs beside stuck task 1 on worker a, then beside stuck 3 on b,
  // then beside stuck 5 on c: the first rerun is free, the second uses its
  // one redelivery, and when c is killed too it is quarantined with the
  // reason its worker ended with, as with max_redeliveries 0.
  auto cfg = beside_a_stuck_task(1);
  cfg.workers = 3;
  auto pool = make_pool(cfg);
  auto events = subscribe_listener(pool);
  auto one = ask(pool, 1); // a, times out at 50 ms
  run();
  advance(10ms);
  auto three = ask(pool, 3); // b, times out at 60 ms
  run();
  advance(10ms);
  auto five = ask(pool, 5); // c, times out at 70 ms
  run();
  advance(10ms);
  auto two = ask(pool, 2); // 30 ms: on a, beside 1
  run();
  advance(20ms); // 50 ms: 2 reruns on b, free
  advance(10ms); // 60 ms: 2 reruns on c, its one redelivery
  BOOST_TEST(!two->done());
  advance(10ms); // 70 ms
  BOOST_TEST(has_error(five, caf::sec::request_timeout));
  BOOST_TEST(has_error(two, caf::exit_reason::kill));
  BOOST_TEST(p->attempts[2] == 3);
  auto s = stats(pool);
  BOOST_TEST(s.quarantined == 1u);
  BOOST_TEST(s.redelivered == 2u);
  BOOST_TEST(s.timed_out == 3u);
  auto q = std::find_if(events->begin(), events->end(), [](const worker_pool_event& ev) {
    return ev.kind == pool_event::task_quarantined;
  });
  BOOST_REQUIRE(q != events->end());
  BOOST_TEST(q->reason == to_string(caf::make_error(caf::exit_reason::kill)));
}

BOOST_AUTO_TEST_CASE(
    without_redeliveries_a_task_beside_a_stuck_one_fails_with_its_worker) {
  auto pool = make_pool(beside_a_stuck_task(0));
  auto beside = time_out_beside(pool);
  BOOST_TEST(has_error(beside, caf::exit_reason::kill));
  auto s = stats(pool);
  BOOST_TEST(s.quarantined == 0u);
  BOOST_TEST(s.failed == 1u);
  BOOST_TEST(s.timed_out == 1u);
}

BOOST_AUTO_TEST_CASE(a_stuck_worker_is_killed_before_it_runs_the_tasks_in_its_mailbox) {
  // Task 1 blocks its worker's thread: task 2, sent to it beside task 1, waits
  // unread in its mailbox. When task 1 times out, the pool kills the worker
  // and sends task 2 to the replacement. The kill overtakes task 2 in the old
  // worker's mailbox, so that task 2 runs once, on the replacement, and not
  // also on the old worker when its thread comes back.
  auto pool = make_pool(beside_a_stuck_task(1));
  auto stuck_worker = p->spawned.at(0);
  auto* blocked =
      dynamic_cast<caf::resumable*>(caf::actor_cast<caf::abstract_actor*>(stuck_worker));
  BOOST_REQUIRE(blocked != nullptr);
  auto not_blocked = [blocked](caf::resumable* job) { return job != blocked; };
  auto stuck = ask(pool, 1);
  run();
  advance(30ms);
  auto beside = ask(pool, 2);
  sched.run_jobs_filtered(not_blocked);
  sched.advance_time(20ms); // 50 ms: task 1 times out
  sched.run_jobs_filtered(not_blocked);
  BOOST_TEST(has_error(stuck, caf::sec::request_timeout));
  BOOST_TEST(p->spawned.size() == 2u);
  BOOST_TEST(p->attempts[2] == 1); // on the replacement
  // The blocked thread comes back and takes one message: the kill.
  BOOST_REQUIRE(sched.prioritize(stuck_worker));
  sched.run_once();
  BOOST_TEST(p->attempts[2] == 1);
  run();
  advance(40ms);
  BOOST_TEST(has_value(beside, 20));
  BOOST_TEST(p->attempts[2] == 1);
  BOOST_TEST(p->calls == 2);
}

BOOST_AUTO_TEST_CASE(a_down_message_about_a_live_worker_is_ignored) {
  // Only CAF says when a worker is down: a down message that another actor
  // sends about a worker that still runs neither fails nor re-dispatches its
  // task, and the worker stays in the pool.
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.max_redeliveries = 1;
  auto pool = make_pool(cfg);
  auto w = p->spawned.at(0);
  auto out = ask(pool, 1);
  run();
  caf::anon_send(pool,
                 caf::down_msg{w.address(), caf::make_error(caf::sec::runtime_error)});
  auto forger = spawn([](caf::event_based_actor*) -> caf::behavior { return {}; });
  caf::send_as(forger, pool,
               caf::down_msg{w.address(), caf::make_error(caf::exit_reason::kill)});
  run();
  advance(10ms);
  BOOST_TEST(has_value(out, 10));
  BOOST_TEST(p->attempts[1] == 1);
  BOOST_TEST(p->spawned.size() == 1u);
  auto s = stats(pool);
  BOOST_TEST(s.workers == 1u);
  BOOST_TEST(s.redelivered == 0u);
  BOOST_TEST(s.completed == 1u);
}

BOOST_AUTO_TEST_CASE(a_down_message_about_a_live_pool_worker_is_ignored) {
  // As above, for a worker without a mailbox of its own (a pool): its state
  // shows only in its flags, which CAF sets before the real down message.
  worker_pool_config inner_cfg;
  inner_cfg.workers = 1;
  auto inner = make_pool(inner_cfg);
  worker_pool_config outer_cfg;
  outer_cfg.workers = 1;
  outer_cfg.max_redeliveries = 1;
  auto outer = spawn_worker_pool(sys, outer_cfg, std::vector<caf::actor>{inner});
  BOOST_REQUIRE(outer);
  pools.push_back(*outer);
  run();
  auto out = ask(*outer, 1);
  run();
  caf::anon_send(
      *outer, caf::down_msg{inner.address(), caf::make_error(caf::sec::runtime_error)});
  run();
  advance(10ms);
  BOOST_TEST(has_value(out, 10));
  BOOST_TEST(p->attempts[1] == 1);
  BOOST_TEST(stats(*outer).workers == 1u);
  // Killed for real, it is lost: the outer pool, without a factory, has none left.
  kill(inner);
  BOOST_TEST(caf::actor_cast<caf::abstract_actor*>(*outer)->getf(
      caf::abstract_actor::is_terminated_flag));
}

BOOST_AUTO_TEST_CASE(random_runs_answer_every_caller_once_and_their_counters_add_up) {
  // 200 seeded runs of 300 random steps each: tasks (some prioritized) whose
  // workers answer, fail, crash or hang; resizes, pauses, clears, drains and
  // kills from outside; queue and task timeouts, both overflow policies, and
  // a restart back-off. Every caller and every drain is answered once, no
  // worker runs more than its limit, and at the end nothing is left running
  // or queued and the outcome counters add up to the tasks sent.
  std::minstd_rand rng;
  for (int seed = 1; seed <= 200; ++seed) {
    rng.seed(seed);
    p = std::make_shared<probe>();
    auto cfg = random_pool(rng, seed, 12);
    size_t mif = cfg.max_in_flight_per_worker;
    cfg.max_redeliveries = seed % 3;
    cfg.queue_capacity = 1 + rng() % 8;
    cfg.overflow =
        seed % 2 ? overflow_policy::drop_oldest : overflow_policy::reject_newest;
    if (seed % 5 != 0)
      cfg.queue_timeout = std::chrono::milliseconds(20 + rng() % 60);
    if (seed % 3 == 0) {
      cfg.restart_backoff = 5ms;
      cfg.restart_backoff_max = 40ms;
      cfg.restart_backoff_reset = 30ms;
    }
    auto pool = make_pool(cfg);
    std::vector<std::shared_ptr<outcome<caf::message>>> outs;
    std::vector<std::shared_ptr<outcome<caf::error>>> drains;
    for (int step = 0; step < 300; ++step) {
      switch (rng() % 14) {
      case 0:
        caf::anon_send(pool, resize_atom_v, uint64_t{1 + rng() % 5});
        break;
      case 1:
      case 2:
        advance(std::chrono::milliseconds(rng() % 30));
        break;
      case 3:
        caf::anon_send(pool, pause_atom_v);
        break;
      case 4:
        caf::anon_send(pool, resume_atom_v);
        break;
      case 5:
        if (rng() % 4 == 0)
          caf::anon_send(pool, clear_atom_v);
        break;
      case 6:
        drains.push_back(request_drain(pool));
        break;
      case 7:
        if (!p->spawned.empty() && rng() % 3 == 0)
          caf::anon_send_exit(p->spawned[rng() % p->spawned.size()],
                              caf::exit_reason::kill);
        break;
      case 8:
        outs.push_back(ask(pool, static_cast<int32_t>(rng() % 3), int64_t(outs.size())));
        break;
      default:
        outs.push_back(ask(pool, int64_t(outs.size())));
      }
      run();
      BOOST_REQUIRE_MESSAGE(p->per_worker_max <= int(mif),
                            "seed " << seed << " step " << step << ": a worker ran "
                                    << p->per_worker_max << " tasks at once");
      for (auto& o : outs)
        BOOST_REQUIRE(o->calls <= 1);
    }
    caf::anon_send(pool, resume_atom_v);
    run();
    advance(60000ms);
    run();
    bool alive = !caf::actor_cast<caf::abstract_actor*>(pool)->getf(
        caf::abstract_actor::is_terminated_flag);
    size_t values = 0;
    for (auto& o : outs) {
      BOOST_REQUIRE_MESSAGE(o->calls == 1, "seed " << seed << ": unanswered");
      if (o->value->match_elements<int64_t>())
        ++values;
    }
    for (auto& d : drains)
      BOOST_REQUIRE_MESSAGE(d->calls == 1, "seed " << seed << ": drain unanswered");
    if (alive) {
      auto s = stats(pool);
      auto sum = s.completed + s.failed + s.timed_out + s.quarantined + s.rejected +
                 s.dropped + s.queue_timeouts + s.cleared;
      BOOST_CHECK_MESSAGE(s.running == 0u && s.queued == 0u,
                          "seed " << seed << " leftover running " << s.running
                                  << " queued " << s.queued);
      BOOST_CHECK_MESSAGE(sum == outs.size(), "seed " << seed << " counters sum " << sum
                                                      << " tasks " << outs.size());
      BOOST_CHECK_MESSAGE(s.completed == values, "seed " << seed << " completed "
                                                         << s.completed << " values "
                                                         << values);
    }
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    run();
  }
}

BOOST_AUTO_TEST_CASE(a_worker_that_is_gone_is_refused_at_spawn) {
  auto dead = dead_backend();
  worker_pool_config cfg;
  cfg.workers = 1;
  auto from_factory =
      spawn_worker_pool(sys, cfg, [dead](caf::actor_system&) { return dead; });
  BOOST_REQUIRE(!from_factory);
  BOOST_TEST(from_factory.error() == error::invalid_config);
  BOOST_TEST(to_string(from_factory.error()).find("gone") != std::string::npos);
  auto handed_in = spawn_worker_pool(sys, cfg, std::vector<caf::actor>{dead});
  BOOST_REQUIRE(!handed_in);
  BOOST_TEST(handed_in.error() == error::invalid_config);
  BOOST_TEST(to_string(handed_in.error()).find("gone") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(without_a_factory_a_back_off_does_not_delay_the_exit) {
  worker_pool_config cfg;
  cfg.restart_backoff = 100ms;
  auto w = sys.spawn(probe_worker, p);
  auto pool = spawn_worker_pool(sys, cfg, std::vector<caf::actor>{w});
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  auto out = ask(*pool, 1);
  run();
  kill(w);
  // Nothing could replace it: the pool exits at once, answering the task.
  BOOST_TEST(has_error(out, error::shut_down));
}

BOOST_AUTO_TEST_CASE(without_a_factory_a_back_off_counts_no_replacement_in_a_resize) {
  worker_pool_config cfg;
  cfg.restart_backoff = 100ms;
  auto a = sys.spawn(probe_worker, p);
  auto b = sys.spawn(probe_worker, p);
  auto pool = spawn_worker_pool(sys, cfg, std::vector<caf::actor>{a, b});
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  run();
  kill(a);
  BOOST_TEST(stats(*pool).restarting == 0u);
  // Growing back to 2 needs a factory, which this pool does not have.
  BOOST_TEST(control(*pool, caf::make_message(resize_atom_v, uint64_t{2})) ==
             error::invalid_config);
  advance(1s);
  BOOST_TEST(stats(*pool).workers == 1u);
}

BOOST_AUTO_TEST_CASE(leaving_workers_stay_when_a_delayed_replacement_fails) {
  // b leaves after its long task (a shrink); a crashes; its replacement
  // waits for the back-off, then the factory fails (the dependency is down):
  // b stays, and the queued task runs on it.
  crash_on_one(500ms);
  worker_pool_config cfg;
  cfg.workers = 2;
  cfg.max_redeliveries = 0;
  cfg.restart_backoff = 100ms;
  auto pool = spawn_worker_pool(sys, cfg, failing_after(2, false));
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  run();
  shrink_then_crash(*pool, 2s);
  auto late = ask(*pool, 4);
  run();
  advance(1s);
  BOOST_TEST(has_value(late, 40));
}

BOOST_AUTO_TEST_CASE(a_shutdown_during_a_back_off_answers_and_starts_nobody) {
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.restart_backoff = 100ms;
  auto pool = make_pool(cfg);
  kill(p->spawned[0]);
  auto queued = ask(pool, 1);
  run();
  BOOST_TEST(!queued->done());
  BOOST_TEST(!control(pool, caf::make_message(shutdown_atom_v)));
  BOOST_TEST(has_error(queued, error::shut_down));
  advance(1s);
  BOOST_TEST(p->spawned.size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_worker_killed_from_outside_is_replaced_and_its_task_rerun) {
  p->react = [](int64_t, int) { return reaction::reply_after(10ms); };
  auto pool = make_pool(1);
  auto out = ask(pool, 4);
  run();
  BOOST_REQUIRE(p->spawned.size() == 1u);
  advance(5ms);
  kill(p->spawned[0]);
  BOOST_TEST(p->spawned.size() == 2u);
  advance(10ms);
  BOOST_TEST(has_value(out, 40));
  BOOST_TEST(stats(pool).redelivered == 1u);
}

BOOST_AUTO_TEST_CASE(tasks_bounced_by_a_crashing_worker_get_its_exit_reason) {
  // The worker quits while it handles task 1; task 2, still in its mailbox,
  // bounces (request_receiver_down) before the pool hears of the death. Both
  // tasks are quarantined with the exit reason, not with the bounce.
  auto crash_on_one = [](caf::event_based_actor* self) -> caf::behavior {
    return {[self](ask_atom, int64_t x) -> caf::result<int64_t> {
      if (x == 1) {
        auto rp = self->make_response_promise<int64_t>();
        self->quit(caf::make_error(caf::sec::runtime_error, "poison"));
        return rp;
      }
      return x * 10;
    }};
  };
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.max_in_flight_per_worker = 2;
  cfg.max_redeliveries = 0;
  auto pool = spawn_worker_pool(sys, cfg, make_worker_factory(crash_on_one));
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  run();
  auto poison = ask(*pool, 1);
  auto bounced = ask(*pool, 2);
  run();
  BOOST_TEST(has_error(poison, caf::sec::runtime_error));
  BOOST_TEST(has_error(bounced, caf::sec::runtime_error));
  auto s = stats(*pool);
  BOOST_TEST(s.quarantined == 2u);
  BOOST_TEST(s.replaced == 1u);
  BOOST_TEST(s.failed == 0u);
}

BOOST_AUTO_TEST_CASE(a_task_of_an_inner_pool_that_is_killed_runs_again) {
  // An inner pool answers its callers as it exits, before its down message;
  // the outer pool takes those answers for the inner pool's crash, as for
  // any worker that dies.
  auto inners = std::make_shared<std::vector<caf::actor>>();
  worker_pool_config inner_cfg;
  inner_cfg.workers = 1;
  worker_pool_config outer_cfg;
  outer_cfg.workers = 2;
  auto outer =
      spawn_worker_pool(sys, outer_cfg, [=, f = factory()](caf::actor_system& s) {
        auto inner = spawn_worker_pool(s, inner_cfg, f);
        inners->push_back(*inner);
        return *inner;
      });
  BOOST_REQUIRE(outer);
  pools.push_back(*outer);
  run();
  auto out = ask(*outer, 4);
  run();
  BOOST_REQUIRE(inners->size() == 2u);
  advance(5ms);
  kill((*inners)[0]);
  advance(10ms);
  BOOST_TEST(has_value(out, 40));
  auto s = stats(*outer);
  BOOST_TEST(s.redelivered == 1u);
  BOOST_TEST(s.failed == 0u);
  BOOST_TEST(s.replaced == 1u);
  for (auto& inner : *inners)
    pools.push_back(inner);
}

BOOST_AUTO_TEST_CASE(a_redispatched_task_adds_no_second_wait_sample) {
  // Task 1 crashes its worker after 10 ms and runs again at once; task 2
  // waits 20 ms behind it. The waits are 0 and 20 ms: the re-dispatch is no
  // wait of 10 ms (that was task 1's first run).
  p->react = [](int64_t x, int attempt) {
    if (x == 1 && attempt == 0)
      return reaction::die_with(caf::make_error(caf::sec::runtime_error, "once"), 10ms);
    return reaction::reply_after(10ms);
  };
  auto pool = make_pool(1);
  auto a = ask(pool, 1);
  auto b = ask(pool, 2);
  run();
  advance(10ms);
  advance(10ms);
  advance(10ms);
  BOOST_TEST(has_value(a, 10));
  BOOST_TEST(has_value(b, 20));
  auto s = stats(pool);
  BOOST_TEST(s.redelivered == 1u);
  BOOST_TEST(ms(s.wait_p50) == 0);
  BOOST_TEST(ms(s.wait_p99) == 20);
}

BOOST_AUTO_TEST_CASE(a_factory_returning_a_dead_worker_is_not_taken_for_a_replacement) {
  // Such a worker would be lost at once and replaced again, without end.
  auto dead = spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](ask_atom, int64_t x) { return x; }};
  });
  kill(dead);
  auto calls = std::make_shared<int>(0);
  worker_pool_config cfg;
  cfg.workers = 1;
  auto pool = spawn_worker_pool(sys, cfg, [=, f = factory()](caf::actor_system& s) {
    return ++*calls == 1 ? f(s) : dead;
  });
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  run();
  auto out = ask(*pool, 4);
  run();
  BOOST_REQUIRE(p->spawned.size() == 1u);
  kill(p->spawned[0]);
  // No worker is left: the pool stops and answers the caller.
  BOOST_TEST(has_error(out, error::shut_down));
  BOOST_TEST(*calls == 2);
}

BOOST_AUTO_TEST_CASE(growing_under_load_starts_queued_work_at_once) {
  auto pool = make_pool(1);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 6; ++i)
    outs.push_back(ask(pool, i));
  run();
  BOOST_TEST(p->in_flight == 1);
  BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{3})));
  BOOST_TEST(p->in_flight == 3);
  advance(20ms);
  for (auto& out : outs)
    BOOST_TEST(out->calls == 1);
  BOOST_TEST(p->max_in_flight == 3);
  BOOST_TEST(stats(pool).workers == 3u);
}

BOOST_AUTO_TEST_CASE(shrinking_under_load_drops_no_work) {
  auto pool = make_pool(3);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 9; ++i)
    outs.push_back(ask(pool, i));
  run();
  BOOST_TEST(p->in_flight == 3);
  BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{1})));
  BOOST_TEST(stats(pool).workers == 1u);
  advance(10ms);
  // The retiring workers finished their tasks and left; one remains.
  BOOST_TEST(p->in_flight == 1);
  advance(60ms);
  for (int64_t i = 0; i < 9; ++i)
    BOOST_TEST(has_value(outs[i], i * 10));
  BOOST_TEST(ms(elapsed()) == 70);
  size_t alive = 0;
  for (auto& w : p->spawned)
    if (!caf::actor_cast<caf::abstract_actor*>(w)->getf(
            caf::abstract_actor::is_terminated_flag))
      ++alive;
  BOOST_TEST(alive == 1u);
}

BOOST_AUTO_TEST_CASE(a_crashed_workers_tasks_run_again_in_their_dispatch_order) {
  // One worker runs three tasks at once; the first one kills it.
  p->react = [](int64_t x, int attempt) {
    if (attempt > 0)
      return reaction::reply_after(10ms);
    if (x == 0)
      return reaction::die_with(caf::make_error(caf::sec::runtime_error), 5ms);
    return reaction::never();
  };
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.max_in_flight_per_worker = 3;
  auto pool = make_pool(cfg);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 3; ++i)
    outs.push_back(ask(pool, i));
  run();
  advance(15ms);
  for (int64_t i = 0; i < 3; ++i)
    BOOST_TEST(has_value(outs[i], i * 10));
  // First attempts, then the re-dispatch on the replacement, in both cases
  // in the order the tasks arrived.
  BOOST_TEST(p->order == (std::vector<int64_t>{0, 1, 2, 0, 1, 2}));
  BOOST_TEST(stats(pool).redelivered == 3u);
}

BOOST_AUTO_TEST_CASE(repeated_resizes_keep_dispatch_right) {
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.max_in_flight_per_worker = 2;
  auto pool = make_pool(cfg);
  // Shrinks with idle and with busy workers, grows in between.
  for (int round = 0; round < 20; ++round) {
    BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{4})));
    auto busy = ask(pool, round);
    run();
    BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{1})));
    advance(10ms);
    BOOST_TEST(has_value(busy, round * 10));
  }
  BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{3})));
  p->max_in_flight = 0;
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 8; ++i)
    outs.push_back(ask(pool, i));
  run();
  // 3 workers x 2 slots run; the rest waits.
  BOOST_TEST(p->in_flight == 6);
  auto s = stats(pool);
  BOOST_TEST(s.workers == 3u);
  BOOST_TEST(s.running == 6u);
  BOOST_TEST(s.queued == 2u);
  advance(20ms);
  for (int64_t i = 0; i < 8; ++i)
    BOOST_TEST(has_value(outs[i], i * 10));
  BOOST_TEST(p->max_in_flight == 6);
}

BOOST_AUTO_TEST_CASE(a_grow_takes_back_workers_still_finishing_after_a_shrink) {
  // Every task hangs: a shrink leaves the busy workers retiring.
  p->react = [](int64_t, int) { return reaction::never(); };
  auto pool = make_pool(2);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  outs.push_back(ask(pool, 100));
  outs.push_back(ask(pool, 101));
  for (int round = 0; round < 10; ++round) {
    outs.push_back(ask(pool, round));
    run();
    BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{1})));
    BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{2})));
  }
  // The same two workers throughout, never more than 2 x 1 tasks running.
  BOOST_TEST(p->spawned.size() == 2u);
  auto s = stats(pool);
  BOOST_TEST(s.workers == 2u);
  BOOST_TEST(s.running == 2u);
  BOOST_TEST(s.queued == 10u);
  BOOST_TEST(p->max_in_flight == 2);
  // Without a factory, a grow back to the workers the pool still holds works.
  auto a = spawn(probe_worker, p);
  auto b = spawn(probe_worker, p);
  auto fixed =
      spawn_worker_pool(sys, worker_pool_config{}, std::vector<caf::actor>{a, b});
  BOOST_REQUIRE(fixed);
  pools.push_back(*fixed);
  auto busy = ask(*fixed, 1);
  auto other = ask(*fixed, 2);
  run();
  BOOST_TEST(!control(*fixed, caf::make_message(resize_atom_v, uint64_t{1})));
  BOOST_TEST(stats(*fixed).workers == 1u);
  BOOST_TEST(!control(*fixed, caf::make_message(resize_atom_v, uint64_t{2})));
  BOOST_TEST(stats(*fixed).workers == 2u);
  BOOST_TEST(control(*fixed, caf::make_message(resize_atom_v, uint64_t{3})) ==
             error::invalid_config);
}

BOOST_AUTO_TEST_CASE(random_resizes_crashes_and_timeouts_never_leak_or_double_a_slot) {
  for (int seed = 1; seed <= 40; ++seed) {
    std::minstd_rand rng(seed);
    p = std::make_shared<probe>();
    auto cfg = random_pool(rng, seed, 10);
    size_t mif = cfg.max_in_flight_per_worker;
    cfg.max_redeliveries = 1;
    if (seed % 2 == 0) {
      // Replacements wait for a back-off (done within the 100 ms below).
      cfg.restart_backoff = 5ms;
      cfg.restart_backoff_max = 40ms;
      cfg.restart_backoff_reset = 30ms;
    }
    auto pool = make_pool(cfg);
    random_steps(pool, rng, mif, seed);
    // No slot leaked or duplicated: a fixed-size pool runs exactly its slots.
    p->react = [](int64_t, int) { return reaction::reply_after(10ms); };
    BOOST_TEST(!control(pool, caf::make_message(resize_atom_v, uint64_t{3})));
    advance(100ms);
    auto s0 = stats(pool);
    BOOST_TEST(s0.running == 0u);
    std::vector<std::shared_ptr<outcome<caf::message>>> flood;
    for (size_t i = 0; i < 3 * mif + 5; ++i)
      flood.push_back(ask(pool, int64_t(100000 + i)));
    run();
    auto s = stats(pool);
    BOOST_TEST_MESSAGE("seed " << seed << " workers " << s.workers << " running "
                               << s.running);
    BOOST_CHECK_MESSAGE(s.workers == 3u && s.running == 3 * mif,
                        "seed " << seed << ": workers " << s.workers << " running "
                                << s.running << " expected " << 3 * mif);
    advance(100ms);
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    run();
  }
}

BOOST_AUTO_TEST_CASE(
    random_handed_in_workers_and_failing_sends_answer_every_caller_once) {
  for (int seed = 1; seed <= 100; ++seed) {
    std::minstd_rand rng(seed);
    auto srng = std::make_shared<std::minstd_rand>(seed * 7919);
    p = std::make_shared<probe>();
    bool with_factory = seed % 2 == 0;
    p->react = [&rng](int64_t, int) {
      switch (rng() % 12) {
      case 0:
        return reaction::die_with(caf::make_error(caf::sec::runtime_error),
                                  std::chrono::milliseconds(1 + rng() % 20));
      case 1:
        return reaction::never();
      default:
        return reaction::reply_after(std::chrono::milliseconds(1 + rng() % 40));
      }
    };
    worker_pool_config cfg;
    size_t mif = 1 + seed % 3;
    cfg.max_in_flight_per_worker = mif;
    cfg.task_timeout = 50ms;
    cfg.max_redeliveries = 1 + seed % 2;
    auto mk = [this, srng, &rng](caf::actor_system&) -> caf::actor {
      auto inner = spawn(probe_worker, p);
      if (rng() % 2 == 0)
        return inner;
      caf::actor_config acfg{sys.dummy_execution_unit()};
      return caf::make_actor<flaky_send_worker, caf::actor>(
          sys.next_actor_id(), sys.node(), &sys, acfg, inner, srng, 6);
    };
    std::vector<caf::actor> ws;
    for (int i = 0; i < 3 + seed % 5; ++i)
      ws.push_back(mk(sys));
    auto pool_e = spawn_worker_pool(sys, cfg, ws,
                                    with_factory ? worker_factory{mk} : worker_factory{});
    BOOST_REQUIRE(pool_e);
    auto pool = *pool_e;
    pools.push_back(pool);
    run();
    random_steps(pool, rng, mif, seed);
    bool alive = !caf::actor_cast<caf::abstract_actor*>(pool)->getf(
        caf::abstract_actor::is_terminated_flag);
    if (alive) {
      auto s = stats(pool);
      BOOST_CHECK_MESSAGE(s.running == 0u && s.queued == 0u,
                          "seed " << seed << " leftover");
      // A flood runs on every free slot, and on no more.
      p->react = [](int64_t, int) { return reaction::reply_after(10ms); };
      std::vector<std::shared_ptr<outcome<caf::message>>> flood;
      for (size_t i = 0; i < s.workers * mif + 5; ++i)
        flood.push_back(ask(pool, int64_t(100000 + i)));
      run();
      auto s2 = stats(pool);
      BOOST_TEST_MESSAGE("seed " << seed << " workers " << s2.workers << " running "
                                 << s2.running << " queued " << s2.queued << " dropped "
                                 << s2.dropped - s.dropped);
      BOOST_CHECK_MESSAGE(s2.running + (s2.dropped - s.dropped) >=
                                  std::min<size_t>(s2.workers * mif, flood.size()) &&
                              s2.running <= s2.workers * mif,
                          "seed " << seed << ": workers " << s2.workers << " running "
                                  << s2.running);
      advance(100ms);
    }
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
    run();
  }
}

BOOST_AUTO_TEST_CASE(resize_refuses_zero_and_growth_without_a_factory) {
  auto pool = make_pool(2);
  BOOST_TEST(control(pool, caf::make_message(resize_atom_v, uint64_t{0})) ==
             error::invalid_config);
  // Sizes beyond the limits are refused before any worker starts.
  BOOST_TEST(control(pool, caf::make_message(resize_atom_v,
                                             uint64_t{worker_pool_max_workers + 1})) ==
             error::invalid_config);
  BOOST_TEST(control(pool, caf::make_message(resize_atom_v,
                                             std::numeric_limits<uint64_t>::max())) ==
             error::invalid_config);
  BOOST_TEST(p->spawned.size() == 2u);
  BOOST_TEST(stats(pool).workers == 2u);
  auto w = spawn(probe_worker, p);
  auto fixed = spawn_worker_pool(sys, worker_pool_config{}, std::vector<caf::actor>{w});
  BOOST_REQUIRE(fixed);
  pools.push_back(*fixed);
  BOOST_TEST(control(*fixed, caf::make_message(resize_atom_v, uint64_t{2})) ==
             error::invalid_config);
  BOOST_TEST(stats(*fixed).workers == 1u);
}

BOOST_AUTO_TEST_CASE(pause_holds_dispatch_and_resume_restarts_it) {
  auto pool = make_pool(2);
  BOOST_TEST(!control(pool, caf::make_message(pause_atom_v)));
  auto a = ask(pool, 1);
  auto b = ask(pool, 2);
  run();
  advance(100ms);
  BOOST_TEST(p->calls == 0);
  BOOST_TEST(stats(pool).queued == 2u);
  BOOST_TEST(!control(pool, caf::make_message(resume_atom_v)));
  advance(10ms);
  BOOST_TEST(has_value(a, 10));
  BOOST_TEST(has_value(b, 20));
  BOOST_TEST(ms(a->at - start_time()) == 110);
}

BOOST_AUTO_TEST_CASE(drain_answers_once_nothing_is_queued_or_running) {
  auto pool = make_pool(2);
  // Idle pool: at once.
  BOOST_TEST(!control(pool, caf::make_message(drain_atom_v)));
  for (int64_t i = 0; i < 5; ++i)
    ask(pool, i);
  auto drained = request_drain(pool);
  run();
  advance(29ms);
  BOOST_TEST(!drained->done());
  advance(1ms);
  BOOST_REQUIRE(drained->done());
  BOOST_TEST(!*drained->value);
  BOOST_TEST(ms(drained->at - start_time()) == 30);
}

BOOST_AUTO_TEST_CASE(clear_answers_the_queued_callers_and_running_tasks_finish) {
  auto pool = make_pool(2);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 5; ++i)
    outs.push_back(ask(pool, i));
  run();
  // Tasks 0 and 1 run; 2, 3 and 4 were queued and are answered at once.
  BOOST_TEST(clear(pool) == 3u);
  for (size_t i = 2; i < 5; ++i) {
    BOOST_TEST(has_error(outs[i], error::dropped));
    BOOST_TEST(ms(outs[i]->at - start_time()) == 0);
  }
  BOOST_TEST(!outs[0]->done());
  advance(10ms);
  BOOST_TEST(has_value(outs[0], 0));
  BOOST_TEST(has_value(outs[1], 10));
  BOOST_TEST(p->calls == 2);
  // The pool goes on taking work.
  auto later = ask(pool, 7);
  run();
  advance(10ms);
  BOOST_TEST(has_value(later, 70));
  auto s = stats(pool);
  BOOST_TEST(s.cleared == 3u);
  BOOST_TEST(s.dropped == 0u);
  BOOST_TEST(s.completed == 3u);
  BOOST_TEST(s.queued == 0u);
}

BOOST_AUTO_TEST_CASE(clear_answers_a_task_past_its_queue_timeout_overloaded) {
  // The queue timer's message is due but not yet handled when the clear
  // comes: the task that waited too long is still answered `overloaded`.
  p->react = [](int64_t, int) { return reaction::reply_after(100ms); };
  worker_pool_config cfg;
  cfg.workers = 1;
  cfg.queue_timeout = 50ms;
  auto pool = make_pool(cfg);
  auto running = ask(pool, 0);
  auto late = ask(pool, 1);
  run();
  advance(30ms);
  auto fresh = ask(pool, 2);
  run();
  sched.advance_time(25ms);               // 55 ms: task 1 waited 55, task 2 waited 25
  BOOST_REQUIRE(sched.jobs.size() == 1u); // the timer's message, not handled
  auto* timer_job = sched.jobs.front();
  BOOST_TEST(!late->done());
  auto n = start<uint64_t>([=](auto* self, auto done) {
    self->request(pool, caf::infinite, clear_atom_v).then([=](uint64_t k) { done(k); });
  });
  sched.run_jobs_filtered([timer_job](caf::resumable* job) { return job != timer_job; });
  BOOST_REQUIRE(n->done());
  BOOST_TEST(*n->value == 1u);
  BOOST_TEST(has_error(late, error::overloaded));
  BOOST_TEST(has_error(fresh, error::dropped));
  advance(100ms);
  BOOST_TEST(has_value(running, 0));
  auto s = stats(pool);
  BOOST_TEST(s.queue_timeouts == 1u);
  BOOST_TEST(s.cleared == 1u);
  BOOST_TEST(s.completed == 1u);
}

BOOST_AUTO_TEST_CASE(a_timer_relay_that_dies_is_replaced_and_the_deadline_still_holds) {
  // The hidden relay that sets the pool's timers dies with a timer pending
  // (a send that threw for want of memory would end it so). The pool starts
  // another and sets the timer again: the stuck task still times out on time.
  std::shared_ptr<outcome<caf::message>> stuck;
  auto pool = pool_with_a_stuck_task(stuck);
  // The relay is the receiver of the only message the clock holds.
  caf::strong_actor_ptr relay;
  for (auto& kvp : sched.clock().schedule())
    if (kvp.second->subtype == caf::detail::simple_actor_clock::actor_msg_type)
      relay =
          static_cast<caf::detail::simple_actor_clock::actor_msg&>(*kvp.second).receiver;
  BOOST_REQUIRE(relay);
  caf::anon_send_exit(relay, caf::exit_reason::kill);
  run();
  advance(49ms);
  BOOST_TEST(!stuck->done());
  advance(1ms);
  BOOST_TEST(has_error(stuck, caf::sec::request_timeout));
  BOOST_TEST(ms(stuck->at - start_time()) == 50);
  // And again for the next task.
  auto next = ask(pool, 2);
  run();
  advance(50ms);
  BOOST_TEST(has_error(next, caf::sec::request_timeout));
  BOOST_TEST(stats(pool).timed_out == 2u);
}

BOOST_AUTO_TEST_CASE(clear_while_paused_releases_a_drain_and_tells_subscribers) {
  auto pool = make_pool(2);
  auto events = subscribe_listener(pool);
  // An empty queue: nothing to clear.
  BOOST_TEST(clear(pool) == 0u);
  BOOST_TEST(!control(pool, caf::make_message(pause_atom_v)));
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 4; ++i)
    outs.push_back(ask(pool, static_cast<int32_t>(i), i));
  auto drained = request_drain(pool);
  run();
  BOOST_TEST(!drained->done());
  BOOST_TEST(clear(pool) == 4u);
  for (auto& out : outs)
    BOOST_TEST(has_error(out, error::dropped));
  BOOST_REQUIRE(drained->done());
  BOOST_TEST(!*drained->value);
  BOOST_TEST(p->calls == 0);
  auto kinds = kinds_of(*events);
  // Clearing the empty queue changed nothing and told nobody.
  std::vector<std::string> expected{"paused", "cleared"};
  BOOST_TEST(kinds == expected, boost::test_tools::per_element());
  BOOST_REQUIRE(events->size() == expected.size());
  BOOST_TEST((*events)[1].task == 4u);
}

BOOST_AUTO_TEST_CASE(shutdown_answers_every_queued_and_running_caller) {
  p->react = [](int64_t, int) { return reaction::never(); };
  auto pool = make_pool(2);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 5; ++i)
    outs.push_back(ask(pool, i));
  auto drained = request_drain(pool);
  run();
  BOOST_TEST(!control(pool, caf::make_message(shutdown_atom_v)));
  for (auto& out : outs)
    BOOST_TEST(has_error(out, error::shut_down));
  BOOST_TEST(drained->calls == 1);
  BOOST_TEST(*drained->value == error::shut_down);
  // The pool and the workers it started are gone; later callers learn it.
  auto after = ask(pool, 9);
  run();
  BOOST_TEST(has_error(after, caf::sec::request_receiver_down));
  for (auto& w : p->spawned)
    BOOST_TEST(caf::actor_cast<caf::abstract_actor*>(w)->getf(
        caf::abstract_actor::is_terminated_flag));
}

BOOST_AUTO_TEST_CASE(a_killed_pool_answers_every_caller_with_its_exit_reason) {
  p->react = [](int64_t, int) { return reaction::never(); };
  auto pool = make_pool(1);
  std::vector<std::shared_ptr<outcome<caf::message>>> outs;
  for (int64_t i = 0; i < 3; ++i)
    outs.push_back(ask(pool, i));
  run();
  kill(pool);
  for (auto& out : outs) {
    BOOST_TEST(has_error(out, caf::exit_reason::kill));
    BOOST_TEST(ms(out->at - start_time()) == 0);
  }
}

BOOST_AUTO_TEST_CASE(stats_count_and_time_the_tasks) {
  p->react = [](int64_t x, int) {
    if (x == 3)
      return reaction::fail_with(caf::make_error(error::not_owner), 20ms);
    return reaction::reply_after(10ms);
  };
  auto pool = make_pool(1);
  for (int64_t i = 0; i < 4; ++i)
    ask(pool, i);
  run();
  auto mid = stats(pool);
  BOOST_TEST(mid.workers == 1u);
  BOOST_TEST(mid.running == 1u);
  BOOST_TEST(mid.queued == 3u);
  advance(50ms);
  auto s = stats(pool);
  BOOST_TEST(s.completed == 3u);
  BOOST_TEST(s.failed == 1u);
  BOOST_TEST(s.running == 0u);
  BOOST_TEST(s.queued == 0u);
  // Waits were 0, 10, 20 and 30 ms; runs 10, 10, 10 and 20 ms (nearest
  // rank: p50 is the 2nd of 4, p90 and p99 the 4th).
  BOOST_TEST(ms(s.wait_p50) == 10);
  BOOST_TEST(ms(s.wait_p90) == 30);
  BOOST_TEST(ms(s.wait_p99) == 30);
  BOOST_TEST(ms(s.run_p50) == 10);
  BOOST_TEST(ms(s.run_p90) == 20);
  BOOST_TEST(ms(s.run_p99) == 20);
  // More 20 ms runs: the median moves to 20 with the seventh run, when four
  // of the seven took 20 ms.
  for (int i = 0; i < 2; ++i) {
    ask(pool, 3);
    run();
    advance(20ms);
  }
  BOOST_TEST(ms(stats(pool).run_p50) == 10);
  ask(pool, 3);
  run();
  advance(20ms);
  BOOST_TEST(ms(stats(pool).run_p50) == 20);
}

BOOST_AUTO_TEST_CASE(invalid_configs_are_refused_naming_the_field) {
  auto refused = [&](worker_pool_config cfg, const std::string& field) {
    auto pool = spawn_worker_pool(sys, cfg, factory());
    BOOST_REQUIRE(!pool);
    BOOST_TEST(pool.error() == error::invalid_config);
    BOOST_TEST(sys.render(pool.error()).find(field) != std::string::npos,
               sys.render(pool.error()) << " should name " << field);
  };
  worker_pool_config cfg;
  cfg.workers = 0;
  refused(cfg, "workers");
  cfg = {};
  cfg.queue_capacity = 0;
  refused(cfg, "queue_capacity");
  cfg = {};
  cfg.task_timeout = -5ms;
  refused(cfg, "task_timeout");
  cfg = {};
  cfg.task_timeout = caf::timespan::zero();
  refused(cfg, "task_timeout");
  cfg = {};
  cfg.queue_timeout = caf::timespan::zero();
  refused(cfg, "queue_timeout");
  cfg = {};
  cfg.queue_timeout = -1ms;
  refused(cfg, "queue_timeout");
  cfg = {};
  cfg.max_in_flight_per_worker = 0;
  refused(cfg, "max_in_flight_per_worker");
  cfg = {};
  cfg.latency_samples = 0;
  refused(cfg, "latency_samples");
  cfg = {};
  cfg.max_drain_waiters = 0;
  refused(cfg, "max_drain_waiters");
  cfg = {};
  cfg.max_subscribers = 0;
  refused(cfg, "max_subscribers");
  // Sizes that would take the pool's memory (or hang it filling its tables).
  cfg = {};
  cfg.workers = worker_pool_max_workers + 1;
  refused(cfg, "workers");
  cfg = {};
  cfg.max_in_flight_per_worker = std::numeric_limits<size_t>::max();
  refused(cfg, "max_in_flight_per_worker");
  cfg = {};
  cfg.workers = 4096;
  cfg.max_in_flight_per_worker = worker_pool_max_slots / 4096 + 1;
  refused(cfg, "max_in_flight_per_worker");
  cfg = {};
  cfg.latency_samples = worker_pool_max_latency_samples + 1;
  refused(cfg, "latency_samples");
  cfg = {};
  cfg.restart_backoff = -1ms;
  refused(cfg, "restart_backoff");
  cfg = {};
  cfg.restart_backoff = caf::timespan::max();
  refused(cfg, "restart_backoff");
  cfg = {};
  cfg.restart_backoff = 2s;
  cfg.restart_backoff_max = 1s;
  refused(cfg, "restart_backoff_max");
  cfg = {};
  cfg.restart_backoff_reset = caf::timespan::zero();
  refused(cfg, "restart_backoff_reset");
  BOOST_TEST(p->spawned.empty());
  auto no_workers =
      spawn_worker_pool(sys, worker_pool_config{}, std::vector<caf::actor>{});
  BOOST_TEST(no_workers.error() == error::invalid_config);
  auto null_worker =
      spawn_worker_pool(sys, worker_pool_config{}, std::vector<caf::actor>{caf::actor{}});
  BOOST_TEST(null_worker.error() == error::invalid_config);
}

BOOST_AUTO_TEST_CASE(a_worker_handed_in_twice_is_refused) {
  auto a = spawn(probe_worker, p);
  auto pool = spawn_worker_pool(sys, worker_pool_config{}, std::vector<caf::actor>{a, a});
  BOOST_REQUIRE(!pool);
  BOOST_TEST(pool.error() == error::invalid_config);
}

BOOST_AUTO_TEST_CASE(existing_workers_with_too_many_slots_are_refused) {
  auto a = spawn(probe_worker, p);
  auto b = spawn(probe_worker, p);
  worker_pool_config cfg;
  cfg.max_in_flight_per_worker = worker_pool_max_slots / 2 + 1;
  auto pool = spawn_worker_pool(sys, cfg, std::vector<caf::actor>{a, b});
  BOOST_REQUIRE(!pool);
  BOOST_TEST(pool.error() == error::invalid_config);
  cfg.max_in_flight_per_worker = worker_pool_max_slots / 2;
  auto fits = spawn_worker_pool(sys, cfg, std::vector<caf::actor>{a, b});
  BOOST_REQUIRE(fits);
  pools.push_back(*fits);
  auto out = ask(*fits, 4);
  run();
  advance(10ms);
  BOOST_TEST(has_value(out, 40));
}

BOOST_AUTO_TEST_CASE(a_throwing_factory_at_spawn_is_refused_and_leaves_nothing_running) {
  int started = 0;
  worker_factory flaky = [&, p = p](caf::actor_system& s) {
    if (++started == 3)
      throw std::runtime_error("out of workers");
    auto hdl = s.spawn(probe_worker, p);
    p->spawned.push_back(hdl);
    return hdl;
  };
  auto pool = spawn_worker_pool(sys, worker_pool_config{}, flaky);
  BOOST_REQUIRE(!pool);
  BOOST_TEST(pool.error() == error::invalid_config);
  BOOST_TEST(sys.render(pool.error()).find("out of workers") != std::string::npos);
  run();
  BOOST_TEST(running() == 0u);
}

BOOST_AUTO_TEST_CASE(a_failing_factory_is_refused_and_leaves_nothing_running) {
  int started = 0;
  worker_factory flaky = [&, p = p](caf::actor_system& s) {
    if (++started == 3)
      return caf::actor{};
    auto hdl = s.spawn(probe_worker, p);
    p->spawned.push_back(hdl);
    return hdl;
  };
  auto pool = spawn_worker_pool(sys, worker_pool_config{}, flaky);
  BOOST_REQUIRE(!pool);
  BOOST_TEST(pool.error() == error::invalid_config);
  run();
  BOOST_TEST(p->spawned.size() == 2u);
  BOOST_TEST(running() == 0u);
}

BOOST_AUTO_TEST_CASE(a_pool_over_existing_workers_leaves_them_running) {
  auto a = spawn(probe_worker, p);
  auto b = spawn(probe_worker, p);
  auto pool = spawn_worker_pool(sys, worker_pool_config{}, std::vector<caf::actor>{a, b});
  BOOST_REQUIRE(pool);
  auto out = ask(*pool, 5);
  run();
  advance(10ms);
  BOOST_TEST(has_value(out, 50));
  BOOST_TEST(stats(*pool).workers == 2u);
  auto before = running();
  caf::anon_send_exit(*pool, caf::exit_reason::user_shutdown);
  run();
  // Only the pool itself left.
  BOOST_TEST(running() == before - 1);
  for (auto& w : {a, b})
    BOOST_TEST(!caf::actor_cast<caf::abstract_actor*>(w)->getf(
        caf::abstract_actor::is_terminated_flag));
}

BOOST_AUTO_TEST_CASE(a_task_whose_send_throws_is_answered_dropped) {
  caf::actor_config acfg{sys.dummy_execution_unit()};
  auto refusing = caf::make_actor<refusing_worker, caf::actor>(
      sys.next_actor_id(), sys.node(), &sys, acfg, spawn(probe_worker, p));
  auto pool =
      spawn_worker_pool(sys, worker_pool_config{},
                        std::vector<caf::actor>{refusing, spawn(probe_worker, p)});
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  // The first task goes to the refusing worker: its send throws, the task
  // never ran, and its caller hears so at once.
  auto lost = ask(*pool, 1);
  run();
  BOOST_TEST(has_error(lost, error::dropped));
  BOOST_TEST(p->calls == 0);
  // Both workers take tasks again, and nothing is left running.
  auto a = ask(*pool, 2);
  auto b = ask(*pool, 3);
  auto drained = request_drain(*pool);
  run();
  advance(10ms);
  BOOST_TEST(has_value(a, 20));
  BOOST_TEST(has_value(b, 30));
  BOOST_TEST(drained->done());
  auto s = stats(*pool);
  BOOST_TEST(s.workers == 2u);
  BOOST_TEST(s.dropped == 1u);
  BOOST_TEST(s.running == 0u);
}

BOOST_AUTO_TEST_CASE(without_a_factory_the_pool_shrinks_and_exits_with_no_workers) {
  crash_on_one(10ms);
  worker_pool_config cfg;
  cfg.max_redeliveries = 0;
  auto a = spawn(probe_worker, p);
  auto pool = spawn_worker_pool(sys, cfg, std::vector<caf::actor>{a});
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  auto crash = ask(*pool, 1);
  auto queued = ask(*pool, 2);
  run();
  advance(5ms);
  BOOST_TEST(has_error(crash, caf::sec::runtime_error));
  BOOST_TEST(has_error(queued, error::shut_down));
}

BOOST_AUTO_TEST_CASE(typed_workers_come_from_make_worker_factory) {
  worker_pool_config cfg;
  cfg.workers = 2;
  auto pool = spawn_worker_pool(sys, cfg, make_worker_factory(typed_worker_impl));
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  auto a = ask(*pool, 4);
  auto b = ask(*pool, 5);
  run();
  BOOST_TEST(has_value(a, 5));
  BOOST_TEST(has_value(b, 6));
  BOOST_TEST(stats(*pool).workers == 2u);
}

BOOST_AUTO_TEST_CASE(control_atoms_reach_the_workers_through_prioritized) {
  // A worker that itself understands (stats_atom): the plain message is the
  // pool's, the wrapped one is the worker's.
  auto w = spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](stats_atom) { return int64_t{42}; }};
  });
  auto pool = spawn_worker_pool(sys, worker_pool_config{}, std::vector<caf::actor>{w});
  BOOST_REQUIRE(pool);
  pools.push_back(*pool);
  auto out = send(*pool, prioritized(0, stats_atom_v));
  run();
  BOOST_TEST(has_value(out, 42));
  BOOST_TEST(stats(*pool).completed == 1u);
}

// -- real scheduler -----------------------------------------------------------

namespace {

/// A worker that answers x * 2, and dies instead for about one call in 500.
caf::behavior flaky_worker(caf::event_based_actor* self,
                           std::shared_ptr<std::atomic<uint64_t>> seed) {
  auto rng = std::make_shared<std::minstd_rand>(static_cast<uint32_t>(++*seed));
  return {[self, rng](ask_atom, int64_t x) -> caf::result<int64_t> {
    if ((*rng)() % 500 == 0) {
      // Crashes mid-task: the parked promise dies with the worker unanswered,
      // so only the pool's monitor sees what happened.
      auto rp = self->make_response_promise<int64_t>();
      self->quit(caf::make_error(caf::sec::runtime_error, "random crash"));
      return rp;
    }
    return x * 2;
  }};
}

// Answers (ask_atom, x) with x * 2 after up to 2 ms; one task in 300 hangs
// (the pool's task timeout frees it), one in 700 crashes its worker.
caf::behavior racy_worker(caf::event_based_actor* self,
                          std::shared_ptr<std::atomic<uint64_t>> seed) {
  auto rng = std::make_shared<std::minstd_rand>(static_cast<uint32_t>(++*seed));
  auto parked = std::make_shared<std::unordered_map<
      uint64_t, std::pair<caf::typed_response_promise<int64_t>, int64_t>>>();
  auto next = std::make_shared<uint64_t>(0);
  return {
      [=](ask_atom, int64_t x) -> caf::result<int64_t> {
        auto roll = (*rng)() % 2100;
        auto rp = self->make_response_promise<int64_t>();
        if (roll < 7)
          return rp; // hangs
        if (roll < 10) {
          self->quit(caf::make_error(caf::sec::runtime_error, "random crash"));
          return rp;
        }
        auto id = (*next)++;
        parked->emplace(id, std::make_pair(rp, x));
        self->delayed_send(self, std::chrono::microseconds((*rng)() % 2000), tick_atom_v,
                           id);
        return rp;
      },
      [=](tick_atom, uint64_t id) {
        auto i = parked->find(id);
        if (i == parked->end())
          return;
        i->second.first.deliver(i->second.second * 2);
        parked->erase(i);
      },
  };
}

/// Real-scheduler load: `clients` actors send (ask_atom, i) for every i in
/// [0, tasks) to a pool at once and record how often each task is answered
/// and with what. Keep it alive until `done` reached the number of tasks.
struct client_load {
  explicit client_load(int64_t tasks) : answers(static_cast<size_t>(tasks)) {}

  void start(caf::actor_system& sys, const caf::actor& pool, int64_t clients) {
    auto n = static_cast<int64_t>(answers.size());
    for (int64_t c = 0; c < clients; ++c)
      sys.spawn([this, c, n, clients, pool](caf::event_based_actor* self) {
        for (int64_t i = c; i < n; i += clients)
          self->request(pool, caf::infinite, ask_atom_v, i)
              .then(
                  [this, i](int64_t x) {
                    ++(x == i * 2 ? values : wrong_values);
                    answers.add(static_cast<size_t>(i));
                    done.add();
                  },
                  [this, i](caf::error& e) {
                    ++errors;
                    on_error(e);
                    answers.add(static_cast<size_t>(i));
                    done.add();
                  });
      });
  }

  /// Runs the whole load from `clients` callers and checks that every task
  /// was answered exactly once, with the right value if with a value.
  void run_checked(caf::actor_system& sys, const caf::actor& pool, int64_t clients) {
    start(sys, pool, clients);
    BOOST_REQUIRE(
        done.wait_for(static_cast<int64_t>(answers.size()), std::chrono::seconds(100)));
    BOOST_TEST(answers.not_once() == 0u);
    BOOST_TEST(wrong_values == 0);
  }

  answer_tally answers;
  std::atomic<int64_t> values{0};
  std::atomic<int64_t> wrong_values{0};
  std::atomic<int64_t> errors{0};
  /// Called for each error answer, from any thread.
  std::function<void(const caf::error&)> on_error = [](const caf::error&) {};
  completion_counter done;
};

} // namespace

struct no_fixture {};

using stress_worker = caf::behavior (*)(caf::event_based_actor*,
                                        std::shared_ptr<std::atomic<uint64_t>>);

/// A pool whose factory makes `worker`s, each with its own random seed.
caf::actor spawn_stress_pool(caf::actor_system& sys, worker_pool_config cfg,
                             stress_worker worker) {
  auto seed = std::make_shared<std::atomic<uint64_t>>(0);
  auto pool = spawn_worker_pool(
      sys, cfg, [seed, worker](caf::actor_system& s) { return s.spawn(worker, seed); });
  BOOST_REQUIRE(pool);
  return *pool;
}

/// The pool's stats once the load is over, checked to account for each of
/// the `tasks` exactly once with nothing left queued or running.
worker_pool_stats final_stats(caf::actor_system& sys, const caf::actor& pool,
                              int64_t tasks) {
  worker_pool_stats s;
  caf::scoped_actor self{sys};
  self->request(pool, caf::infinite, stats_atom_v)
      .receive([&](worker_pool_stats& x) { s = x; },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  BOOST_TEST(s.completed + s.failed + s.quarantined + s.queue_timeouts ==
             uint64_t(tasks));
  BOOST_TEST(s.running == 0u);
  BOOST_TEST(s.queued == 0u);
  return s;
}

BOOST_FIXTURE_TEST_CASE(a_pool_stopped_from_inside_a_broadcasting_caf_actor_pool_exits,
                        no_fixture) {
  // caf::actor_pool's broadcast passes the shutdown on while it holds its
  // lock, and it monitors its workers: the pool's down message must not be
  // sent on that thread, or it would wait for that lock forever.
  real_time_fixture fix{std::chrono::seconds(60)};
  worker_pool_config cfg;
  cfg.workers = 1;
  auto pool = spawn_worker_pool(fix.sys, cfg, [](caf::actor_system& sys) {
    return sys.spawn(
        []() -> caf::behavior { return {[](ask_atom, int64_t x) { return x * 2; }}; });
  });
  BOOST_REQUIRE(pool);
  auto p = *pool;
  auto outer = caf::actor_pool::make(
      fix.sys.dummy_execution_unit(), 1, [p] { return p; }, caf::actor_pool::broadcast());
  caf::scoped_actor self{fix.sys};
  bool answered = false;
  self->request(outer, caf::infinite, shutdown_atom_v)
      .receive([&] { answered = true; },
               [&](caf::error& err) { BOOST_FAIL(fix.sys.render(err)); });
  BOOST_TEST(answered);
  self->wait_for(p);
  caf::anon_send_exit(outer, caf::exit_reason::user_shutdown);
}

BOOST_FIXTURE_TEST_CASE(every_caller_is_answered_exactly_once_under_random_crashes,
                        no_fixture) {
  real_time_fixture fix{std::chrono::seconds(120)};
  constexpr int64_t tasks = 100000;
  worker_pool_config cfg;
  cfg.workers = 4;
  cfg.max_in_flight_per_worker = 2;
  cfg.queue_capacity = tasks;
  cfg.max_redeliveries = 3;
  auto pool = spawn_stress_pool(fix.sys, cfg, flaky_worker);
  client_load load{tasks};
  load.run_checked(fix.sys, pool, 50);
  BOOST_TEST_MESSAGE("values " << load.values << ", errors " << load.errors);
  // Crashes are re-dispatched: nearly every task got a value.
  BOOST_TEST(load.values > tasks * 99 / 100);
  auto s = final_stats(fix.sys, pool, tasks);
  BOOST_TEST_MESSAGE("replaced " << s.replaced << ", redelivered " << s.redelivered
                                 << ", quarantined " << s.quarantined);
  BOOST_TEST(s.replaced > 50u);
  BOOST_TEST(s.queue_timeouts == 0u);
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
}

BOOST_FIXTURE_TEST_CASE(queue_timeouts_under_crashes_answer_every_caller_once,
                        no_fixture) {
  real_time_fixture fix{std::chrono::seconds(120)};
  constexpr int64_t tasks = 20000;
  worker_pool_config cfg;
  cfg.workers = 4;
  cfg.queue_capacity = tasks;
  cfg.max_redeliveries = 3;
  cfg.queue_timeout = 2ms;
  auto pool = spawn_stress_pool(fix.sys, cfg, flaky_worker);
  std::atomic<int64_t> queue_timeouts{0};
  client_load load{tasks};
  load.on_error = [&](const caf::error& e) {
    if (e == error::overloaded)
      ++queue_timeouts;
  };
  load.run_checked(fix.sys, pool, 50);
  BOOST_TEST(queue_timeouts > 0);
  BOOST_TEST_MESSAGE("values " << load.values << ", queue timeouts " << queue_timeouts
                               << ", errors " << load.errors);
  auto s = final_stats(fix.sys, pool, tasks);
  BOOST_TEST(s.queue_timeouts == uint64_t(queue_timeouts.load()));
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
}

BOOST_FIXTURE_TEST_CASE(shutdown_and_timeouts_under_load_answer_every_caller_once,
                        no_fixture) {
  real_time_fixture fix{std::chrono::seconds(120)};
  constexpr int64_t tasks = 20000;
  worker_pool_config cfg;
  cfg.workers = 4;
  cfg.max_in_flight_per_worker = 2;
  cfg.queue_capacity = tasks;
  cfg.max_redeliveries = 1;
  cfg.task_timeout = 50ms;
  auto pool = spawn_stress_pool(fix.sys, cfg, racy_worker);
  std::atomic<int64_t> timeouts{0}, shut{0}, other{0};
  client_load load{tasks};
  load.on_error = [&](const caf::error& e) {
    if (e == caf::sec::request_timeout)
      ++timeouts;
    else if (e == error::shut_down || e == caf::sec::request_receiver_down)
      ++shut;
    else if (e != caf::sec::runtime_error)
      ++other;
  };
  load.start(fix.sys, pool, 20);
  // Shut down in the middle of the load.
  BOOST_REQUIRE(load.done.wait_for(tasks / 2, std::chrono::seconds(60)));
  caf::anon_send(pool, shutdown_atom_v);
  BOOST_REQUIRE(load.done.wait_for(tasks, std::chrono::seconds(60)));
  BOOST_TEST(load.answers.not_once() == 0u);
  BOOST_TEST(load.wrong_values == 0);
  BOOST_TEST(other == 0);
  BOOST_TEST(load.values >= tasks / 2 - tasks / 50);
  BOOST_TEST(shut > 0);
  BOOST_TEST_MESSAGE("values " << load.values << ", timeouts " << timeouts
                               << ", shut down " << shut);
}

BOOST_FIXTURE_TEST_CASE(a_pool_of_pools_answers_every_caller_once, no_fixture) {
  real_time_fixture fix{std::chrono::seconds(120)};
  constexpr int64_t tasks = 40000;
  auto seed = std::make_shared<std::atomic<uint64_t>>(0);
  worker_pool_config inner_cfg;
  inner_cfg.workers = 3;
  inner_cfg.queue_capacity = 64;
  inner_cfg.max_redeliveries = 3;
  std::vector<caf::actor> inner;
  for (int i = 0; i < 2; ++i) {
    auto p = spawn_worker_pool(fix.sys, inner_cfg, [seed](caf::actor_system& sys) {
      return sys.spawn(flaky_worker, seed);
    });
    BOOST_REQUIRE(p);
    inner.push_back(*p);
  }
  worker_pool_config outer_cfg;
  outer_cfg.max_in_flight_per_worker = 16;
  outer_cfg.queue_capacity = tasks;
  auto outer = spawn_worker_pool(fix.sys, outer_cfg, inner);
  BOOST_REQUIRE(outer);
  client_load load{tasks};
  load.run_checked(fix.sys, *outer, 20);
  // The outer pool never overfills an inner one: 16 per inner pool fit in
  // its 3 running and 64 queued.
  BOOST_TEST(load.values > tasks * 99 / 100);
  BOOST_TEST_MESSAGE("values " << load.values << ", errors " << load.errors);
  caf::anon_send_exit(*outer, caf::exit_reason::user_shutdown);
  for (auto& p : inner)
    caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
}

BOOST_FIXTURE_TEST_CASE(a_pool_reached_by_the_clock_while_its_queue_is_full_answers,
                        no_fixture) {
  // A delayed message sent straight to the pool is handed over on CAF's
  // clock thread, which then does the pool's work. Setting a timer there
  // must not wait for room in the clock's queue, which only that thread
  // makes: the pool would stop answering and the system's timers with it.
  real_time_fixture fix{std::chrono::seconds(60)};
  worker_pool_config cfg;
  cfg.workers = 2;
  cfg.task_timeout = 10s; // the pool sets a timer for every task
  auto started = std::make_shared<completion_counter>();
  auto pool = spawn_worker_pool(fix.sys, cfg, [started](caf::actor_system& sys) {
    return sys.spawn([started]() -> caf::behavior {
      return {[started](ask_atom, int64_t x) {
        started->add();
        return x * 2;
      }};
    });
  });
  BOOST_REQUIRE(pool);
  auto g = std::make_shared<gate>();
  caf::actor_config acfg{fix.sys.dummy_execution_unit()};
  auto keeper = caf::make_actor<gate_keeper, caf::actor>(
      fix.sys.next_actor_id(), fix.sys.node(), &fix.sys, acfg, g);
  auto sink = fix.sys.spawn([]() -> caf::behavior { return {[](tick_atom) {}}; });
  auto& clock = fix.sys.clock();
  auto anon = [](auto... xs) {
    return caf::make_mailbox_element(nullptr, caf::make_message_id(), {}, xs...);
  };
  // The gate keeper and a task for the pool fall due together, in that
  // order: the clock thread waits at the gate before it reaches the pool.
  auto due = clock.now() + 200ms;
  clock.schedule_message(due, caf::actor_cast<caf::strong_actor_ptr>(keeper),
                         anon(tick_atom_v));
  clock.schedule_message(due, caf::actor_cast<caf::strong_actor_ptr>(*pool),
                         anon(ask_atom_v, int64_t{1}));
  if (clock.now() + 100ms > due) {
    // This thread stalled: the pool's entry may not have reached the clock
    // before the gate keeper fell due, and filling the queue could block
    // here. Nothing to test this time.
    BOOST_TEST_MESSAGE("set-up too slow, clock scenario skipped");
    g->open();
    caf::anon_send_exit(*pool, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
    return;
  }
  BOOST_REQUIRE(g->wait_entered(30s));
  // Fills the clock's queue (63 entries) while its thread waits.
  for (int i = 0; i < 63; ++i)
    clock.schedule_message(clock.now() + 1h, caf::actor_cast<caf::strong_actor_ptr>(sink),
                           anon(tick_atom_v));
  g->open();
  // The clock thread hands the pool its task (and sets the task's timer)
  // before anyone else reaches the pool.
  BOOST_REQUIRE(started->wait_for(1, 30000ms));
  caf::scoped_actor self{fix.sys};
  int answered = 0;
  for (int64_t x = 2; x < 12; ++x)
    self->request(*pool, 10s, ask_atom_v, x)
        .receive(
            [&](int64_t y) {
              BOOST_TEST(y == x * 2);
              ++answered;
            },
            [&](caf::error& err) { BOOST_ERROR(fix.sys.render(err)); });
  BOOST_TEST(answered == 10);
  // The clock still delivers.
  self->delayed_send(self, 10ms, tick_atom_v);
  bool ticked = false;
  self->receive([&](tick_atom) { ticked = true; }, caf::after(10s) >> [] {});
  BOOST_TEST(ticked);
  caf::anon_send_exit(*pool, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_task_redispatched_on_a_timeout_skips_other_stuck_workers) {
  // Tasks 1 and 2 hang and time out in the same timer round; task 3 shares
  // task 1's worker. Its re-dispatch must not go to task 2's worker, which
  // is dropped in the same round.
  p->react = [](int64_t x, int) {
    return x == 3 ? reaction::reply_after(40ms) : reaction::never();
  };
  worker_pool_config cfg;
  cfg.workers = 2;
  cfg.max_in_flight_per_worker = 2;
  cfg.task_timeout = 50ms;
  cfg.max_redeliveries = 1;
  auto pool = make_pool(cfg);
  auto t1 = ask(pool, 1);
  auto t2 = ask(pool, 2);
  run();
  advance(20ms);
  auto t3 = ask(pool, 3);
  run();
  advance(30ms);
  BOOST_TEST(has_error(t1, caf::sec::request_timeout));
  BOOST_TEST(has_error(t2, caf::sec::request_timeout));
  advance(100ms);
  BOOST_TEST(has_value(t3, 30));
  BOOST_TEST(p->attempts[3] == 2);
  auto s = stats(pool);
  BOOST_TEST(s.redelivered == 1u);
  BOOST_TEST(s.quarantined == 0u);
}

BOOST_AUTO_TEST_CASE(an_inner_pools_relayed_error_is_not_taken_for_its_crash) {
  // The inner worker answers an error and starts terminating right away, as
  // a worker may while the inner pool's relay of its answer is still under
  // way on another thread. The outer pool must relay the error, not drop
  // the inner pool.
  caf::actor_config acfg{sys.dummy_execution_unit()};
  auto w = caf::make_actor<answer_then_die, caf::actor>(sys.next_actor_id(), sys.node(),
                                                        &sys, acfg);
  worker_pool_config cfg;
  auto inner = spawn_worker_pool(sys, cfg, std::vector<caf::actor>{w});
  BOOST_REQUIRE(inner);
  auto outer = spawn_worker_pool(sys, cfg, std::vector<caf::actor>{*inner});
  BOOST_REQUIRE(outer);
  pools.push_back(*outer);
  pools.push_back(*inner);
  auto events = subscribe_listener(*outer);
  auto out = ask(*outer, 1);
  run();
  BOOST_TEST(has_error(out, caf::sec::request_receiver_down));
  BOOST_TEST(kinds_of(*events).empty());
  BOOST_TEST(!caf::actor_cast<caf::abstract_actor*>(*outer)->getf(
      caf::abstract_actor::is_terminated_flag));
}

BOOST_AUTO_TEST_SUITE_END()
