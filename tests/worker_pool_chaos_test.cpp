// Chaos tests of the worker pool on CAF's real scheduler: tasks, control
// messages, crashes, kills, timeouts and shutdowns from several threads at
// once. Every test checks the pool's promises: each caller is answered
// exactly once with the right value or an expected error, no worker runs
// more tasks at once than allowed, the stats account for every task, and a
// drain is answered only after the tasks sent before it.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include <actorkit/actors/worker_pool.hpp>

#include "fixtures/real_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;

namespace {

using std::chrono::microseconds;

void raise_to(std::atomic<int>& max, int n) {
  auto m = max.load();
  while (n > m && !max.compare_exchange_weak(m, n)) {
    // retry
  }
}

/// Tasks running at once on one group of workers: a single worker, or all
/// workers behind one forwarding actor.
struct load_group {
  std::atomic<int> now{0};
  std::atomic<int> max{0};
  int up() {
    auto n = ++now;
    raise_to(max, n);
    return n;
  }
};

/// How the workers of a test behave.
struct worker_spec {
  /// Answer time, uniform in [min_delay, max_delay].
  microseconds min_delay{0};
  microseconds max_delay{1000};
  /// One task in `crash_one_in` crashes its worker (0: never).
  uint32_t crash_one_in = 0;
  /// One task in `hang_one_in` takes `hang` instead (0: never).
  uint32_t hang_one_in = 0;
  microseconds hang{0};
};

/// Shared by every worker of a test: the workers started, the most tasks any
/// one group ran at once, and the workers that exited.
struct worker_probe : std::enable_shared_from_this<worker_probe> {
  explicit worker_probe(worker_spec s) : spec(s) {}

  caf::actor spawn(caf::actor_system& sys,
                   std::shared_ptr<load_group> g = std::make_shared<load_group>());

  /// A worker started earlier (null if it is gone).
  caf::actor pick(uint32_t roll) {
    std::lock_guard<std::mutex> guard{mtx};
    return caf::actor_cast<caf::actor>(started[roll % started.size()]);
  }

  size_t count() {
    std::lock_guard<std::mutex> guard{mtx};
    return started.size();
  }

  void stop_all() {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& addr : started)
      if (auto w = caf::actor_cast<caf::actor>(addr))
        caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  }

  worker_spec spec;
  std::atomic<uint32_t> seeds{0};
  /// The most tasks one group ran at once.
  std::atomic<int> max_in_flight{0};
  completion_counter exited;
  std::mutex mtx;
  std::vector<caf::actor_addr> started;
};

/// Answers (ask_atom, x) with x * 2 after a random time, so that several
/// tasks overlap on one worker; crashes or hangs as its spec says.
caf::behavior chaos_worker(caf::event_based_actor* self, std::shared_ptr<worker_probe> p,
                           std::shared_ptr<load_group> g) {
  auto rng = std::make_shared<std::minstd_rand>(++p->seeds);
  auto mine = std::make_shared<int>(0);
  auto parked = std::make_shared<std::unordered_map<
      uint64_t, std::pair<caf::typed_response_promise<int64_t>, int64_t>>>();
  auto next = std::make_shared<uint64_t>(0);
  self->attach_functor([p, g, mine] {
    g->now -= *mine;
    p->exited.add();
  });
  return {
      [=](ask_atom, int64_t x) -> caf::result<int64_t> {
        auto rp = self->make_response_promise<int64_t>();
        ++*mine;
        raise_to(p->max_in_flight, g->up());
        auto& s = p->spec;
        if (s.crash_one_in > 0 && (*rng)() % s.crash_one_in == 0) {
          // The parked promise dies with the worker unanswered.
          self->quit(caf::make_error(caf::sec::runtime_error, "crash"));
          return rp;
        }
        auto span = static_cast<uint32_t>((s.max_delay - s.min_delay).count() + 1);
        auto delay = s.min_delay + microseconds((*rng)() % span);
        if (s.hang_one_in > 0 && (*rng)() % s.hang_one_in == 0)
          delay = s.hang;
        auto id = (*next)++;
        parked->emplace(id, std::make_pair(rp, x));
        self->delayed_send(self, delay, tick_atom_v, id);
        return rp;
      },
      [=](tick_atom, uint64_t id) {
        auto i = parked->find(id);
        if (i == parked->end())
          return;
        --*mine;
        --g->now;
        i->second.first.deliver(i->second.second * 2);
        parked->erase(i);
      },
  };
}

caf::actor worker_probe::spawn(caf::actor_system& sys, std::shared_ptr<load_group> g) {
  auto w = sys.spawn(chaos_worker, shared_from_this(), std::move(g));
  std::lock_guard<std::mutex> guard{mtx};
  started.push_back(w.address());
  return w;
}

worker_factory factory_of(const std::shared_ptr<worker_probe>& p) {
  return [p](caf::actor_system& sys) { return p->spawn(sys); };
}

/// Tasks the pool answered, by the stats' counters.
uint64_t answered_tasks(const worker_pool_stats& s) {
  return s.completed + s.failed + s.timed_out + s.quarantined + s.rejected + s.dropped +
         s.queue_timeouts + s.cleared;
}

/// Error answers collected from any thread.
struct error_log {
  void add(const caf::error& e) {
    std::lock_guard<std::mutex> guard{mtx};
    all.push_back(e);
  }

  /// Errors equal to `x`.
  int64_t count(const caf::error& x) {
    std::lock_guard<std::mutex> guard{mtx};
    return std::count_if(all.begin(), all.end(), [&](const caf::error& e) {
      return e.code() == x.code() && e.category() == x.category();
    });
  }

  /// Errors that are none of `xs`; the first one is printed.
  int64_t unexpected(caf::actor_system& sys, std::initializer_list<caf::error> xs) {
    std::lock_guard<std::mutex> guard{mtx};
    int64_t n = 0;
    for (auto& e : all) {
      auto known = std::any_of(xs.begin(), xs.end(), [&](const caf::error& x) {
        return e.code() == x.code() && e.category() == x.category();
      });
      if (!known && n++ == 0)
        BOOST_TEST_MESSAGE("unexpected error: " << sys.render(e));
    }
    return n;
  }

  size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return all.size();
  }

  std::mutex mtx;
  std::vector<caf::error> all;
};

/// The answers to a load of tasks (ask_atom, i) for i in [0, tasks).
struct load_result {
  explicit load_result(int64_t tasks) : answers(static_cast<size_t>(tasks)) {}

  int64_t tasks() const { return static_cast<int64_t>(answers.size()); }

  answer_tally answers;
  std::atomic<int64_t> values{0};
  std::atomic<int64_t> wrong_values{0};
  error_log errors;
  /// Drains answered before a task sent ahead of them.
  std::atomic<int> early_drains{0};
  completion_counter done;
  completion_counter drains;
};

/// Sends tasks first, first + step, ... below the load's end to the pool,
/// at most `window` of them waiting at once; a drain request follows the
/// first half of them.
class client : public caf::event_based_actor {
public:
  client(caf::actor_config& cfg, std::shared_ptr<load_result> load, caf::actor pool,
         int64_t first, int64_t step, int64_t window)
      : caf::event_based_actor(cfg), load_(std::move(load)), pool_(std::move(pool)),
        first_(first), step_(step), window_(window) {
    total_ = (load_->tasks() - first_ + step_ - 1) / step_;
    drain_at_ = total_ / 2;
  }

  caf::behavior make_behavior() override {
    for (int64_t k = 0; k < window_; ++k)
      send_next();
    return {};
  }

private:
  void send_next() {
    if (next_ >= total_)
      return;
    auto k = next_++;
    auto i = first_ + k * step_;
    request(pool_, caf::infinite, ask_atom_v, i)
        .then(
            [this, k, i](int64_t x) {
              ++(x == i * 2 ? load_->values : load_->wrong_values);
              answered(k, i);
            },
            [this, k, i](caf::error& e) {
              load_->errors.add(e);
              answered(k, i);
            });
    if (next_ == drain_at_) {
      auto check = [this] {
        if (early_ != drain_at_)
          ++load_->early_drains;
        load_->drains.add();
      };
      request(pool_, caf::infinite, drain_atom_v)
          .then([check] { check(); }, [check](caf::error&) { check(); });
    }
  }

  void answered(int64_t k, int64_t i) {
    if (k < drain_at_)
      ++early_;
    send_next();
    load_->answers.add(static_cast<size_t>(i));
    load_->done.add();
  }

  std::shared_ptr<load_result> load_;
  caf::actor pool_;
  int64_t first_, step_, window_, total_, drain_at_;
  int64_t next_ = 0;
  int64_t early_ = 0;
};

/// Starts `clients` clients sharing the tasks of `load`.
void start_clients(caf::actor_system& sys, const std::shared_ptr<load_result>& load,
                   const caf::actor& pool, int64_t clients, int64_t window) {
  for (int64_t c = 0; c < clients; ++c)
    sys.spawn<client>(load, pool, c, clients, window);
}

/// Waits for every answer and drain of `clients` clients, then checks that
/// each task was answered once, values right, drains after their tasks.
void check_load(load_result& load, int64_t clients) {
  BOOST_REQUIRE(load.done.wait_for(static_cast<size_t>(load.tasks()), 40000ms));
  BOOST_REQUIRE(load.drains.wait_for(static_cast<size_t>(clients), 40000ms));
  BOOST_TEST(load.answers.not_once() == 0u);
  BOOST_TEST(load.wrong_values == 0);
  BOOST_TEST(load.early_drains == 0);
  int64_t errors = static_cast<int64_t>(load.errors.size());
  BOOST_TEST(load.values + load.wrong_values + errors == load.tasks());
}

/// Control messages a controller picks from.
enum class op {
  resize,
  pause,
  resume,
  stats,
  subscribe,
  unsubscribe,
  drain,
  clear,
  kill
};

/// What the controllers saw.
struct control_result {
  std::atomic<int64_t> ok{0};
  error_log errors;
  /// Tasks answered `error::dropped` by the clears, as the pool reported.
  std::atomic<uint64_t> cleared{0};
  /// Stats answers whose counters went back, or with more than max_workers.
  std::atomic<int> bad_stats{0};
  std::atomic<uint64_t> events{0};
  /// Event answers with more than max_workers.
  std::atomic<int> bad_events{0};
  std::atomic<int> kills{0};
  /// Answers to the controllers' requests.
  completion_counter answered;
  /// Requests sent (final once every controller is done).
  std::atomic<int64_t> sent{0};
  completion_counter finished;
  std::vector<caf::actor> listeners;
  uint64_t max_workers = 6;
};

/// Sends `ops` control messages picked at random from `mix` to the pool,
/// about one every `gap`, then resumes the pool.
class controller : public caf::event_based_actor {
public:
  controller(caf::actor_config& cfg, std::shared_ptr<control_result> res, caf::actor pool,
             std::vector<op> mix, int ops, microseconds gap, uint32_t seed,
             std::shared_ptr<worker_probe> probe, caf::actor listener)
      : caf::event_based_actor(cfg), res_(std::move(res)), pool_(std::move(pool)),
        mix_(std::move(mix)), ops_(ops), gap_(gap), rng_(seed), probe_(std::move(probe)),
        listener_(std::move(listener)) {
    // nop
  }

  caf::behavior make_behavior() override {
    send(this, tick_atom_v);
    return {[this](tick_atom) {
      if (ops_-- > 0) {
        act(mix_[rng_() % mix_.size()]);
        delayed_send(this, microseconds(rng_() % (gap_.count() * 2 + 1)), tick_atom_v);
        return;
      }
      unit(resume_atom_v);
      res_->finished.add();
      unbecome();
    }};
  }

private:
  template <class... Ts>
  void unit(Ts... xs) {
    ++res_->sent;
    request(pool_, caf::infinite, xs...).then([this] { ok(); }, err());
  }

  void ok() {
    ++res_->ok;
    res_->answered.add();
  }

  auto err() {
    return [this](caf::error& e) {
      res_->errors.add(e);
      res_->answered.add();
    };
  }

  void act(op x) {
    switch (x) {
    case op::resize:
      unit(resize_atom_v, uint64_t{1 + rng_() % res_->max_workers});
      break;
    case op::pause:
      unit(pause_atom_v);
      break;
    case op::resume:
      unit(resume_atom_v);
      break;
    case op::subscribe:
      unit(subscribe_atom_v, listener_);
      break;
    case op::unsubscribe:
      unit(unsubscribe_atom_v, listener_);
      break;
    case op::drain:
      unit(drain_atom_v);
      break;
    case op::stats:
      ++res_->sent;
      request(pool_, caf::infinite, stats_atom_v)
          .then(
              [this](const worker_pool_stats& s) {
                auto sum = answered_tasks(s);
                if (sum < last_sum_ || s.workers > res_->max_workers)
                  ++res_->bad_stats;
                last_sum_ = sum;
                ok();
              },
              err());
      break;
    case op::clear:
      ++res_->sent;
      request(pool_, caf::infinite, clear_atom_v)
          .then(
              [this](uint64_t n) {
                res_->cleared += n;
                ok();
              },
              err());
      break;
    case op::kill:
      if (auto w = probe_->pick(rng_())) {
        ++res_->kills;
        caf::anon_send_exit(w, caf::exit_reason::kill);
      }
      break;
    }
  }

  std::shared_ptr<control_result> res_;
  caf::actor pool_;
  std::vector<op> mix_;
  int ops_;
  microseconds gap_;
  std::minstd_rand rng_;
  std::shared_ptr<worker_probe> probe_;
  caf::actor listener_;
  uint64_t last_sum_ = 0;
};

/// Starts `n` controllers, each with a listener for subscribe/unsubscribe.
void start_controllers(caf::actor_system& sys, const std::shared_ptr<control_result>& res,
                       const caf::actor& pool, std::vector<op> mix, int n, int ops,
                       microseconds gap, const std::shared_ptr<worker_probe>& probe) {
  for (int i = 0; i < n; ++i) {
    auto listener = sys.spawn([res](caf::event_based_actor*) -> caf::behavior {
      return {[res](const worker_pool_event& ev) {
        ++res->events;
        if (ev.workers > res->max_workers)
          ++res->bad_events;
      }};
    });
    res->listeners.push_back(listener);
    sys.spawn<controller>(res, pool, mix, ops, gap, static_cast<uint32_t>(1000 + i),
                          probe, listener);
  }
}

/// Waits for every controller and the answers to all their requests.
void finish_controllers(control_result& res, int n) {
  BOOST_REQUIRE(res.finished.wait_for(static_cast<size_t>(n), 40000ms));
  BOOST_REQUIRE(res.answered.wait_for(static_cast<size_t>(res.sent.load()), 40000ms));
  BOOST_TEST(res.bad_stats == 0);
  BOOST_TEST(res.bad_events == 0);
  for (auto& l : res.listeners)
    caf::anon_send_exit(l, caf::exit_reason::user_shutdown);
  res.listeners.clear();
}

/// Sends `xs` to the pool and expects a void answer.
template <class... Ts>
void expect_unit(caf::actor_system& sys, const caf::actor& pool, Ts... xs) {
  caf::scoped_actor self{sys};
  bool answered = false;
  self->request(pool, caf::infinite, xs...)
      .receive([&] { answered = true; },
               [&](caf::error& e) { BOOST_ERROR(sys.render(e)); });
  BOOST_TEST(answered);
}

worker_pool_stats stats_of(caf::actor_system& sys, const caf::actor& pool) {
  worker_pool_stats s;
  caf::scoped_actor self{sys};
  self->request(pool, caf::infinite, stats_atom_v)
      .receive([&](worker_pool_stats& x) { s = x; },
               [&](caf::error& e) { BOOST_FAIL(sys.render(e)); });
  return s;
}

/// The pool's stats once the load is over, checked to account for each of
/// the `tasks` exactly once with nothing left queued or running.
worker_pool_stats final_stats(caf::actor_system& sys, const caf::actor& pool,
                              int64_t tasks) {
  expect_unit(sys, pool, drain_atom_v);
  auto s = stats_of(sys, pool);
  BOOST_TEST(answered_tasks(s) == uint64_t(tasks));
  BOOST_TEST(s.running == 0u);
  BOOST_TEST(s.queued == 0u);
  BOOST_TEST_MESSAGE("completed " << s.completed << ", failed " << s.failed
                                  << ", timed out " << s.timed_out << ", quarantined "
                                  << s.quarantined << ", cleared " << s.cleared
                                  << ", redelivered " << s.redelivered << ", replaced "
                                  << s.replaced);
  return s;
}

/// Stops `pool` and waits until it is gone.
void stop_pool(caf::actor_system& sys, const caf::actor& pool) {
  caf::scoped_actor self{sys};
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  self->wait_for(pool);
}

/// Stops `pool` and checks that every worker it started (the probe's) exits.
void stop_pool(caf::actor_system& sys, const caf::actor& pool, worker_probe& probe) {
  stop_pool(sys, pool);
  BOOST_TEST(probe.exited.wait_for(probe.count(), 20000ms));
}

caf::error code(caf::sec x) {
  return caf::make_error(x);
}
caf::error code(caf::exit_reason x) {
  return caf::make_error(x);
}
caf::error code(error x) {
  return caf::make_error(x);
}

} // namespace

BOOST_AUTO_TEST_SUITE(worker_pool_chaos_suite)

BOOST_AUTO_TEST_CASE(control_messages_racing_with_tasks_keep_every_invariant) {
  real_time_fixture fix{std::chrono::seconds(60)};
  constexpr int64_t tasks = 6000, clients = 8;
  worker_spec spec;
  spec.max_delay = 800us;
  auto probe = std::make_shared<worker_probe>(spec);
  worker_pool_config cfg;
  cfg.workers = 3;
  cfg.max_in_flight_per_worker = 3;
  cfg.queue_capacity = tasks;
  cfg.max_drain_waiters = 1024;
  auto pool = spawn_worker_pool(fix.sys, cfg, factory_of(probe));
  BOOST_REQUIRE(pool);
  auto load = std::make_shared<load_result>(tasks);
  auto ctl = std::make_shared<control_result>();
  start_controllers(fix.sys, ctl, *pool,
                    {op::resize, op::resize, op::pause, op::resume, op::stats,
                     op::subscribe, op::unsubscribe, op::drain},
                    3, 150, 1000us, probe);
  start_clients(fix.sys, load, *pool, clients, 24);
  finish_controllers(*ctl, 3);
  // Whatever the controllers left, the pool runs again.
  expect_unit(fix.sys, *pool, resume_atom_v);
  check_load(*load, clients);
  BOOST_TEST(ctl->errors.size() == 0u);
  BOOST_TEST(ctl->events > 0u);
  BOOST_TEST(load->values == tasks);
  BOOST_TEST(probe->max_in_flight <= 3);
  BOOST_TEST_MESSAGE("most tasks on one worker " << probe->max_in_flight << ", events "
                                                 << ctl->events << ", workers started "
                                                 << probe->count());
  expect_unit(fix.sys, *pool, resize_atom_v, uint64_t{4});
  auto s = final_stats(fix.sys, *pool, tasks);
  BOOST_TEST(s.completed == uint64_t(tasks));
  BOOST_TEST(s.workers == 4u);
  BOOST_TEST(s.replaced == 0u);
  // The pool stops every worker it started.
  stop_pool(fix.sys, *pool, *probe);
}

BOOST_AUTO_TEST_CASE(clears_racing_with_tasks_answer_the_cleared_callers_dropped) {
  real_time_fixture fix{std::chrono::seconds(60)};
  constexpr int64_t tasks = 6000, clients = 8;
  worker_spec spec;
  spec.min_delay = 100us;
  spec.max_delay = 500us;
  auto probe = std::make_shared<worker_probe>(spec);
  worker_pool_config cfg;
  cfg.workers = 2;
  cfg.max_in_flight_per_worker = 2;
  cfg.queue_capacity = tasks;
  auto pool = spawn_worker_pool(fix.sys, cfg, factory_of(probe));
  BOOST_REQUIRE(pool);
  auto load = std::make_shared<load_result>(tasks);
  auto ctl = std::make_shared<control_result>();
  start_controllers(fix.sys, ctl, *pool, {op::clear, op::stats, op::stats, op::stats}, 1,
                    100, 4000us, probe);
  start_clients(fix.sys, load, *pool, clients, 8);
  finish_controllers(*ctl, 1);
  check_load(*load, clients);
  BOOST_TEST(ctl->errors.size() == 0u);
  auto dropped = load->errors.count(code(error::dropped));
  BOOST_TEST(load->errors.unexpected(fix.sys, {code(error::dropped)}) == 0);
  BOOST_TEST(dropped > 0);
  BOOST_TEST(load->values > 0);
  BOOST_TEST(uint64_t(dropped) == ctl->cleared.load());
  BOOST_TEST(probe->max_in_flight <= 2);
  auto s = final_stats(fix.sys, *pool, tasks);
  BOOST_TEST(s.cleared == uint64_t(dropped));
  BOOST_TEST(s.completed == uint64_t(load->values.load()));
  BOOST_TEST_MESSAGE("values " << load->values << ", cleared " << dropped);
  stop_pool(fix.sys, *pool);
}

BOOST_AUTO_TEST_CASE(workers_killed_from_outside_are_replaced_and_tasks_run_again) {
  real_time_fixture fix{std::chrono::seconds(60)};
  constexpr int64_t tasks = 6000, clients = 8;
  worker_spec spec;
  spec.max_delay = 600us;
  auto probe = std::make_shared<worker_probe>(spec);
  worker_pool_config cfg;
  cfg.workers = 4;
  cfg.max_in_flight_per_worker = 2;
  cfg.queue_capacity = tasks;
  cfg.max_redeliveries = 3;
  auto pool = spawn_worker_pool(fix.sys, cfg, factory_of(probe));
  BOOST_REQUIRE(pool);
  auto load = std::make_shared<load_result>(tasks);
  auto ctl = std::make_shared<control_result>();
  start_controllers(fix.sys, ctl, *pool, {op::kill, op::kill, op::kill, op::stats}, 2, 40,
                    5000us, probe);
  start_clients(fix.sys, load, *pool, clients, 16);
  finish_controllers(*ctl, 2);
  check_load(*load, clients);
  // A task runs again on another worker; only one that lost four workers is
  // set aside, with the killed worker's exit reason.
  auto quarantined = load->errors.count(code(caf::exit_reason::kill));
  BOOST_TEST(load->errors.unexpected(fix.sys, {code(caf::exit_reason::kill)}) == 0);
  BOOST_TEST(probe->max_in_flight <= 2);
  auto s = final_stats(fix.sys, *pool, tasks);
  BOOST_TEST(s.completed == uint64_t(load->values.load()));
  BOOST_TEST(s.quarantined + s.failed == uint64_t(quarantined));
  BOOST_TEST(s.workers == 4u);
  BOOST_TEST(s.replaced > 0u);
  BOOST_TEST(s.replaced + 4 == probe->count());
  BOOST_TEST_MESSAGE("kills " << ctl->kills << ", values " << load->values);
  stop_pool(fix.sys, *pool, *probe);
}

BOOST_AUTO_TEST_CASE(task_timeouts_landing_with_the_answers_answer_every_caller_once) {
  real_time_fixture fix{std::chrono::seconds(60)};
  constexpr int64_t tasks = 1200, clients = 6;
  worker_spec spec;
  spec.min_delay = 6ms;
  spec.max_delay = 14ms;
  auto probe = std::make_shared<worker_probe>(spec);
  worker_pool_config cfg;
  cfg.workers = 6;
  cfg.max_in_flight_per_worker = 2;
  cfg.queue_capacity = tasks;
  cfg.max_redeliveries = 2;
  cfg.task_timeout = 10ms;
  auto pool = spawn_worker_pool(fix.sys, cfg, factory_of(probe));
  BOOST_REQUIRE(pool);
  auto load = std::make_shared<load_result>(tasks);
  start_clients(fix.sys, load, *pool, clients, 8);
  check_load(*load, clients);
  auto timeouts = load->errors.count(code(caf::sec::request_timeout));
  auto killed = load->errors.count(code(caf::exit_reason::kill));
  BOOST_TEST(load->errors.unexpected(fix.sys, {code(caf::sec::request_timeout),
                                               code(caf::exit_reason::kill)}) == 0);
  BOOST_TEST(timeouts > 0);
  BOOST_TEST(load->values > 0);
  BOOST_TEST(probe->max_in_flight <= 2);
  auto s = final_stats(fix.sys, *pool, tasks);
  BOOST_TEST(s.timed_out == uint64_t(timeouts));
  BOOST_TEST(s.completed == uint64_t(load->values.load()));
  BOOST_TEST(s.failed + s.quarantined == uint64_t(killed));
  BOOST_TEST(s.workers == 6u);
  // The stuck workers were replaced.
  BOOST_TEST(s.replaced > 0u);
  BOOST_TEST_MESSAGE("values " << load->values << ", timeouts " << timeouts
                               << ", killed beside " << killed);
  stop_pool(fix.sys, *pool, *probe);
}

BOOST_AUTO_TEST_CASE(a_crash_loop_under_load_waits_out_the_restart_backoff) {
  real_time_fixture fix{std::chrono::seconds(60)};
  constexpr int64_t tasks = 3000, clients = 6;
  worker_spec spec;
  spec.max_delay = 300us;
  spec.crash_one_in = 25;
  auto probe = std::make_shared<worker_probe>(spec);
  worker_pool_config cfg;
  cfg.workers = 3;
  cfg.max_in_flight_per_worker = 2;
  cfg.queue_capacity = tasks;
  cfg.max_redeliveries = 5;
  cfg.restart_backoff = 2ms;
  cfg.restart_backoff_max = 16ms;
  cfg.restart_backoff_reset = 10s;
  auto pool = spawn_worker_pool(fix.sys, cfg, factory_of(probe));
  BOOST_REQUIRE(pool);
  // Watches the replacements: each waits between the back-off and its cap.
  struct watch {
    std::atomic<int> delayed{0};
    std::atomic<int> out_of_range{0};
  };
  auto w = std::make_shared<watch>();
  auto listener = fix.sys.spawn([w](caf::event_based_actor*) -> caf::behavior {
    return {[w](const worker_pool_event& ev) {
      if (ev.kind != pool_event::restart_delayed)
        return;
      ++w->delayed;
      if (ev.task < 2 || ev.task > 16)
        ++w->out_of_range;
    }};
  });
  expect_unit(fix.sys, *pool, subscribe_atom_v, listener);
  auto load = std::make_shared<load_result>(tasks);
  start_clients(fix.sys, load, *pool, clients, 16);
  check_load(*load, clients);
  auto quarantined = load->errors.count(code(caf::sec::runtime_error));
  BOOST_TEST(load->errors.unexpected(fix.sys, {code(caf::sec::runtime_error)}) == 0);
  BOOST_TEST(load->values > tasks * 99 / 100);
  BOOST_TEST(probe->max_in_flight <= 2);
  auto s = final_stats(fix.sys, *pool, tasks);
  BOOST_TEST(s.quarantined == uint64_t(quarantined));
  BOOST_TEST(s.completed == uint64_t(load->values.load()));
  // Replacements still waiting for their back-off keep their places.
  BOOST_TEST(s.workers + s.restarting == 3u);
  BOOST_TEST(w->delayed > 0);
  BOOST_TEST(w->out_of_range == 0);
  BOOST_TEST_MESSAGE("restarts delayed " << w->delayed << ", workers started "
                                         << probe->count());
  stop_pool(fix.sys, *pool);
  caf::anon_send_exit(listener, caf::exit_reason::user_shutdown);
  BOOST_TEST(probe->exited.wait_for(probe->count(), 20000ms));
}

BOOST_AUTO_TEST_CASE(workers_handed_in_by_the_user_are_replaced_and_not_stopped) {
  real_time_fixture fix{std::chrono::seconds(60)};
  constexpr int64_t tasks = 6000, clients = 8;
  worker_spec spec;
  spec.max_delay = 600us;
  auto probe = std::make_shared<worker_probe>(spec);
  std::vector<caf::actor> mine;
  for (int i = 0; i < 6; ++i)
    mine.push_back(probe->spawn(fix.sys));
  worker_pool_config cfg;
  cfg.max_in_flight_per_worker = 2;
  cfg.queue_capacity = tasks;
  cfg.max_redeliveries = 3;
  auto pool = spawn_worker_pool(fix.sys, cfg, mine, factory_of(probe));
  BOOST_REQUIRE(pool);
  auto load = std::make_shared<load_result>(tasks);
  start_clients(fix.sys, load, *pool, clients, 16);
  BOOST_REQUIRE(load->done.wait_for(tasks / 4, 40000ms));
  caf::anon_send_exit(mine[0], caf::exit_reason::kill);
  BOOST_REQUIRE(load->done.wait_for(tasks / 2, 40000ms));
  caf::anon_send_exit(mine[1], caf::exit_reason::kill);
  caf::anon_send_exit(mine[2], caf::exit_reason::kill);
  check_load(*load, clients);
  BOOST_TEST(load->errors.unexpected(fix.sys, {code(caf::exit_reason::kill)}) == 0);
  BOOST_TEST(probe->max_in_flight <= 2);
  auto s = final_stats(fix.sys, *pool, tasks);
  BOOST_TEST(s.completed == uint64_t(load->values.load()));
  BOOST_TEST(s.workers == 6u);
  BOOST_TEST(s.replaced == 3u);
  BOOST_TEST(probe->count() == 9u);
  stop_pool(fix.sys, *pool);
  // The three killed workers and the three replacements exit; the user's
  // other workers go on and still answer.
  BOOST_TEST(probe->exited.wait_for(6, 20000ms));
  caf::scoped_actor self{fix.sys};
  for (size_t i = 3; i < mine.size(); ++i)
    self->request(mine[i], caf::infinite, ask_atom_v, int64_t{21})
        .receive([&](int64_t x) { BOOST_TEST(x == 42); },
                 [&](caf::error& e) { BOOST_ERROR(fix.sys.render(e)); });
  BOOST_TEST(probe->exited.count() == 6u);
  probe->stop_all();
}

BOOST_AUTO_TEST_CASE(a_pool_of_crashing_and_killed_pools_answers_every_caller_once) {
  real_time_fixture fix{std::chrono::seconds(60)};
  constexpr int64_t tasks = 6000, clients = 8;
  worker_spec spec;
  spec.max_delay = 300us;
  spec.crash_one_in = 300;
  auto probe = std::make_shared<worker_probe>(spec);
  // The outer pool's workers are inner pools it makes itself.
  worker_pool_config inner_cfg;
  inner_cfg.workers = 3;
  inner_cfg.queue_capacity = 64;
  inner_cfg.max_redeliveries = 3;
  std::mutex mtx;
  std::vector<caf::actor_addr> inner;
  auto make_inner = [&](caf::actor_system& sys) {
    auto p = spawn_worker_pool(sys, inner_cfg, factory_of(probe));
    if (!p)
      return caf::actor{};
    std::lock_guard<std::mutex> guard{mtx};
    inner.push_back(p->address());
    return *p;
  };
  auto inner_pool = [&](size_t i) {
    std::lock_guard<std::mutex> guard{mtx};
    return caf::actor_cast<caf::actor>(inner[i]);
  };
  auto inner_count = [&] {
    std::lock_guard<std::mutex> guard{mtx};
    return inner.size();
  };
  worker_pool_config outer_cfg;
  outer_cfg.workers = 2;
  outer_cfg.max_in_flight_per_worker = 8;
  outer_cfg.queue_capacity = tasks;
  outer_cfg.max_redeliveries = 4;
  auto outer = spawn_worker_pool(fix.sys, outer_cfg, make_inner);
  BOOST_REQUIRE(outer);
  auto load = std::make_shared<load_result>(tasks);
  auto ctl = std::make_shared<control_result>();
  start_controllers(fix.sys, ctl, *outer, {op::pause, op::resume, op::stats, op::drain},
                    2, 60, 2000us, probe);
  start_clients(fix.sys, load, *outer, clients, 16);
  // One inner pool is killed, one shrinks, one shuts down under load.
  BOOST_REQUIRE(load->done.wait_for(tasks / 4, 40000ms));
  caf::anon_send_exit(inner_pool(0), caf::exit_reason::kill);
  BOOST_REQUIRE(load->done.wait_for(tasks / 2, 40000ms));
  caf::anon_send(inner_pool(1), resize_atom_v, uint64_t{1});
  BOOST_REQUIRE(load->done.wait_for(tasks * 3 / 4, 40000ms));
  caf::anon_send(inner_pool(1), shutdown_atom_v);
  finish_controllers(*ctl, 2);
  check_load(*load, clients);
  BOOST_TEST(ctl->errors.size() == 0u);
  // An inner pool's quarantine is its answer, relayed as a failed task.
  auto failed = load->errors.count(code(caf::sec::runtime_error));
  BOOST_TEST(load->errors.unexpected(fix.sys, {code(caf::sec::runtime_error)}) == 0);
  BOOST_TEST(load->values > tasks * 99 / 100);
  BOOST_TEST(probe->max_in_flight <= 1);
  auto s = final_stats(fix.sys, *outer, tasks);
  BOOST_TEST(s.completed == uint64_t(load->values.load()));
  BOOST_TEST(s.failed == uint64_t(failed));
  BOOST_TEST(s.workers == 2u);
  BOOST_TEST(s.replaced == 2u);
  // Eight tasks at a time fit in an inner pool's workers and queue.
  BOOST_REQUIRE(inner_count() == 4u);
  for (size_t i = 2; i < 4; ++i) {
    auto is = stats_of(fix.sys, inner_pool(i));
    BOOST_TEST(is.rejected == 0u);
    BOOST_TEST(is.running == 0u);
    BOOST_TEST(is.queued == 0u);
  }
  // Stopping the outer pool stops the inner ones and their workers.
  stop_pool(fix.sys, *outer, *probe);
}

BOOST_AUTO_TEST_CASE(a_pool_over_a_round_robin_caf_pool_whose_workers_die_answers_once) {
  real_time_fixture fix{std::chrono::seconds(60)};
  constexpr int64_t tasks = 4000, clients = 8;
  worker_spec spec;
  spec.max_delay = 400us;
  auto probe = std::make_shared<worker_probe>(spec);
  auto& sys = fix.sys;
  // All workers behind one caf::actor_pool share a load group: the pool
  // above never has more than its slots' worth of tasks on them.
  std::mutex mtx;
  std::vector<std::shared_ptr<load_group>> groups;
  std::vector<caf::actor> caf_pools;
  auto make_caf_pool = [&](caf::actor_system&) {
    auto g = std::make_shared<load_group>();
    auto hdl = caf::actor_pool::make(
        sys.dummy_execution_unit(), 3, [&sys, probe, g] { return probe->spawn(sys, g); },
        caf::actor_pool::round_robin());
    std::lock_guard<std::mutex> guard{mtx};
    groups.push_back(g);
    caf_pools.push_back(hdl);
    return hdl;
  };
  worker_pool_config cfg;
  cfg.max_in_flight_per_worker = 4;
  cfg.queue_capacity = tasks;
  cfg.max_redeliveries = 3;
  // A task parked on a worker that dies is never answered by it.
  cfg.task_timeout = 300ms;
  auto first = make_caf_pool(sys);
  auto pool = spawn_worker_pool(
      sys, cfg, std::vector<caf::actor>{first, probe->spawn(sys)}, make_caf_pool);
  BOOST_REQUIRE(pool);
  auto load = std::make_shared<load_result>(tasks);
  start_clients(sys, load, *pool, clients, 16);
  BOOST_REQUIRE(load->done.wait_for(tasks / 3, 40000ms));
  // Kills a worker inside the CAF pool.
  caf::anon_send_exit(probe->pick(0), caf::exit_reason::kill);
  check_load(*load, clients);
  BOOST_TEST(load->errors.unexpected(sys, {code(caf::sec::request_timeout),
                                           code(caf::sec::request_receiver_down),
                                           code(caf::exit_reason::kill)}) == 0);
  BOOST_TEST(load->values > tasks * 9 / 10);
  {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& g : groups)
      BOOST_TEST(g->max <= 4);
  }
  BOOST_TEST(probe->max_in_flight <= 4);
  auto s = final_stats(sys, *pool, tasks);
  BOOST_TEST(s.completed == uint64_t(load->values.load()));
  BOOST_TEST(s.workers == 2u);
  BOOST_TEST_MESSAGE("values " << load->values << ", errors " << load->errors.size()
                               << ", CAF pools " << caf_pools.size());
  stop_pool(sys, *pool);
  std::lock_guard<std::mutex> guard{mtx};
  for (auto& p : caf_pools)
    caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
  probe->stop_all();
}

BOOST_AUTO_TEST_CASE(a_shutdown_in_the_middle_of_the_chaos_answers_every_caller_once) {
  real_time_fixture fix{std::chrono::seconds(60)};
  constexpr int64_t tasks = 6000, clients = 8;
  worker_spec spec;
  spec.max_delay = 800us;
  spec.crash_one_in = 400;
  spec.hang_one_in = 300;
  spec.hang = 60ms;
  auto probe = std::make_shared<worker_probe>(spec);
  worker_pool_config cfg;
  cfg.workers = 4;
  cfg.max_in_flight_per_worker = 2;
  cfg.queue_capacity = tasks;
  cfg.max_redeliveries = 2;
  cfg.task_timeout = 20ms;
  cfg.max_drain_waiters = 1024;
  auto pool = spawn_worker_pool(fix.sys, cfg, factory_of(probe));
  BOOST_REQUIRE(pool);
  auto load = std::make_shared<load_result>(tasks);
  auto ctl = std::make_shared<control_result>();
  start_controllers(fix.sys, ctl, *pool,
                    {op::resize, op::pause, op::resume, op::clear, op::kill, op::stats,
                     op::subscribe, op::drain},
                    3, 100, 1000us, probe);
  start_clients(fix.sys, load, *pool, clients, 16);
  BOOST_REQUIRE(load->done.wait_for(tasks / 2, 40000ms));
  expect_unit(fix.sys, *pool, shutdown_atom_v);
  check_load(*load, clients);
  finish_controllers(*ctl, 3);
  auto shut = load->errors.count(code(error::shut_down)) +
              load->errors.count(code(caf::sec::request_receiver_down));
  BOOST_TEST(
      load->errors.unexpected(
          fix.sys, {code(error::shut_down), code(caf::sec::request_receiver_down),
                    code(error::dropped), code(caf::sec::request_timeout),
                    code(caf::sec::runtime_error), code(caf::exit_reason::kill)}) == 0);
  BOOST_TEST(ctl->errors.unexpected(fix.sys, {code(error::shut_down),
                                              code(caf::sec::request_receiver_down)}) ==
             0);
  BOOST_TEST(shut > 0);
  BOOST_TEST(load->values > 0);
  BOOST_TEST(probe->max_in_flight <= 2);
  // The pool is gone, and so is every worker it started.
  caf::scoped_actor self{fix.sys};
  self->wait_for(*pool);
  self->request(*pool, caf::infinite, stats_atom_v)
      .receive(
          [&](const worker_pool_stats&) { BOOST_ERROR("stats from a stopped pool"); },
          [&](caf::error& e) { BOOST_TEST(e == caf::sec::request_receiver_down); });
  BOOST_TEST(probe->exited.wait_for(probe->count(), 20000ms));
  BOOST_TEST_MESSAGE("values " << load->values << ", shut down " << shut
                               << ", workers started " << probe->count());
}

BOOST_AUTO_TEST_SUITE_END()
