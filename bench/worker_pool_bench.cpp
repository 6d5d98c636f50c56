// actorkit::worker_pool beside caf::actor_pool (round robin) and, where the
// Boost headers are installed, boost::asio::thread_pool, in the same process,
// on two actor systems: one with --scheduler.max-threads=2 and one with CAF's
// default thread count (state.range(0): 2 or 0).
//
// - uniform/*: a batch of 1000 tiny tasks ((ask_atom, x) -> x) sent at once
//   by one driver actor; items/s is tasks/s. (CAF keeps a requester's pending
//   response handlers in a flat vector, so each answer costs the driver time
//   in proportion to the requests still outstanding: at 10,000 that cost
//   dominates both sides and hides the pools' own.)
// - heavy_tailed/*: tasks that block their worker (simulated blocking I/O,
//   detached workers): 1 ms each, but 1% take 100x longer (100 ms), 1000
//   per iteration; counters short_us, long_us and long_x give the durations
//   measured. The long ones are at seeded random positions
//   (state.range(1) == 0) or every 100th task (state.range(1) == 1).
//   heavy_tailed/* sends all 1000 at once; heavy_tailed_window/* keeps a
//   fixed number of requests outstanding (state.range(2)), sending the next
//   one as each answer arrives, as a service's callers do.
// - memory/*: bytes per task while N requests wait, in a paused pool versus
//   N requests waiting in a plain mailbox (counter bytes_per_task).
#include <benchmark/benchmark.h>

#include <malloc.h>
#include <sys/prctl.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>
#include <vector>

#include <caf/actor_pool.hpp>
#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/actors/worker_pool.hpp>

#include "bench_systems.hpp"

#if __has_include(<boost/asio/thread_pool.hpp>)
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#define ACTORKIT_BENCH_ASIO 1
#endif

namespace {

using actorkit::bench::sys_pool;

using namespace actorkit;
using namespace std::chrono_literals;

// Tasks per uniform batch; WORKER_POOL_BENCH_BATCH overrides it, so that
// callgrind runs can take (Ir(3N) - Ir(N)) / 2N per task.
const int64_t uniform_batch = [] {
  if (auto* env = std::getenv("WORKER_POOL_BENCH_BATCH"))
    return static_cast<int64_t>(std::atoll(env));
  return int64_t{1000};
}();
constexpr size_t workers = 4;

caf::behavior echo_impl() {
  return {[](ask_atom, int64_t x) { return x; }};
}

// Sends (ask_atom, i) for i in [0, n) to `target` at once and answers n when
// every reply arrived.
caf::behavior driver_impl(caf::event_based_actor* self, caf::actor target) {
  return {[=](run_atom, int64_t n) {
    auto rp = self->make_response_promise<int64_t>();
    auto left = std::make_shared<int64_t>(n);
    for (int64_t i = 0; i < n; ++i)
      self->request(target, caf::infinite, ask_atom_v, i)
          .then(
              [=](int64_t) mutable {
                if (--*left == 0)
                  rp.deliver(n);
              },
              [=](caf::error& err) mutable { rp.deliver(err); });
    return rp;
  }};
}

// Sends (ask_atom, i) for i in [0, n) to `target`, at most `window` at a
// time, and answers n when every reply arrived.
caf::behavior window_driver_impl(caf::event_based_actor* self, caf::actor target,
                                 int64_t window) {
  struct run {
    int64_t n = 0;
    int64_t next = 0;
    int64_t left = 0;
    caf::typed_response_promise<int64_t> rp;
  };
  auto send_next = std::make_shared<std::function<void(std::shared_ptr<run>)>>();
  *send_next = [self, target, send_next](std::shared_ptr<run> r) {
    auto i = r->next++;
    self->request(target, caf::infinite, ask_atom_v, i)
        .then(
            [self, r, send_next](int64_t) {
              if (--r->left == 0)
                r->rp.deliver(r->n);
              else if (r->next < r->n)
                (*send_next)(r);
            },
            [r](caf::error& err) mutable { r->rp.deliver(err); });
  };
  self->attach_functor([send_next] { *send_next = nullptr; });
  return {[=](run_atom, int64_t n) {
    auto r = std::make_shared<run>();
    r->n = n;
    r->left = n;
    r->rp = self->make_response_promise<int64_t>();
    for (int64_t i = 0; i < std::min(n, window); ++i)
      (*send_next)(r);
    return r->rp;
  }};
}

caf::actor make_actorkit_pool(caf::actor_system& sys, worker_factory f,
                              size_t per_worker = 1, size_t redeliveries = 2,
                              bool timeouts = false) {
  worker_pool_config cfg;
  if (timeouts) {
    cfg.task_timeout = std::chrono::hours(1);
    cfg.queue_timeout = std::chrono::hours(1);
  }
  cfg.max_redeliveries = redeliveries;
  cfg.workers = workers;
  cfg.max_in_flight_per_worker = per_worker;
  cfg.queue_capacity = 1 << 20;
  return *spawn_worker_pool(sys, cfg, std::move(f));
}

caf::actor make_caf_pool(caf::actor_system& sys, std::function<caf::actor()> f) {
  return caf::actor_pool::make(sys.dummy_execution_unit(), workers, f,
                               caf::actor_pool::round_robin());
}

void run_batches(benchmark::State& state, caf::actor_system& sys, caf::actor target,
                 int64_t batch, int64_t window = 0) {
  auto driver = window > 0 ? sys.spawn(window_driver_impl, target, window)
                           : sys.spawn(driver_impl, target);
  caf::scoped_actor self{sys};
  for (auto _ : state) {
    self->request(driver, caf::infinite, run_atom_v, batch)
        .receive([](int64_t) {},
                 [&](caf::error& e) { state.SkipWithError(to_string(e).c_str()); });
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["threads"] = static_cast<double>(state.range(0));
  self->send_exit(driver, caf::exit_reason::user_shutdown);
  self->send_exit(target, caf::exit_reason::user_shutdown);
}

// -- uniform tiny tasks -------------------------------------------------------

// state.range(1): max_redeliveries (2, the default, keeps a copy of each
// running task for re-dispatch; 0 forwards the caller's message as it is).
void uniform_actorkit(benchmark::State& state) {
  auto& sys = sys_pool().get(state.range(0));
  auto pool = make_actorkit_pool(sys, make_worker_factory(echo_impl), 1,
                                 static_cast<size_t>(state.range(1)));
  run_batches(state, sys, pool, uniform_batch);
}

// Both timeouts set (never reached): the cost of the deadlines and the timer.
void uniform_actorkit_timeouts(benchmark::State& state) {
  auto& sys = sys_pool().get(state.range(0));
  auto pool = make_actorkit_pool(sys, make_worker_factory(echo_impl), 1, 2, true);
  run_batches(state, sys, pool, uniform_batch);
}

void uniform_caf_pool(benchmark::State& state) {
  auto& sys = sys_pool().get(state.range(0));
  auto pool = make_caf_pool(sys, [&sys] { return sys.spawn(echo_impl); });
  run_batches(state, sys, pool, uniform_batch);
}

#ifdef ACTORKIT_BENCH_ASIO
void uniform_asio(benchmark::State& state) {
  boost::asio::thread_pool tp{workers};
  for (auto _ : state) {
    std::mutex mtx;
    std::condition_variable cv;
    int64_t left = uniform_batch;
    std::atomic<int64_t> sum{0};
    for (int64_t i = 0; i < uniform_batch; ++i)
      boost::asio::post(tp, [&, i] {
        sum += i;
        std::lock_guard<std::mutex> guard{mtx};
        if (--left == 0)
          cv.notify_one();
      });
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait(guard, [&] { return left == 0; });
    benchmark::DoNotOptimize(sum.load());
  }
  state.SetItemsProcessed(state.iterations() * uniform_batch);
  tp.join();
}
#endif

// -- heavy-tailed blocking tasks ----------------------------------------------

constexpr int64_t tail_batch = 1000;
constexpr auto tail_short = 1ms;
constexpr auto tail_long = 100ms;

// Which tasks of a batch are the long ones: 1% of them.
std::shared_ptr<const std::unordered_set<int64_t>> long_tasks(bool periodic) {
  auto result = std::make_shared<std::unordered_set<int64_t>>();
  std::minstd_rand rng{42};
  for (int64_t i = 0; i < tail_batch / 100; ++i)
    result->insert(periodic
                       ? i * 100
                       : static_cast<int64_t>(rng() % static_cast<uint32_t>(tail_batch)));
  while (!periodic && result->size() < static_cast<size_t>(tail_batch / 100))
    result->insert(static_cast<int64_t>(rng() % static_cast<uint32_t>(tail_batch)));
  return result;
}

// Measured task durations, so that the results show the ratio the tasks
// really had (a sleep overshoots by the thread's timer slack).
struct tail_timing {
  std::atomic<int64_t> short_ns{0};
  std::atomic<int64_t> short_n{0};
  std::atomic<int64_t> long_ns{0};
  std::atomic<int64_t> long_n{0};
};

caf::behavior blocking_impl(std::shared_ptr<const std::unordered_set<int64_t>> slow,
                            std::shared_ptr<tail_timing> timing) {
  return {[slow, timing](ask_atom, int64_t x) {
    // Stands for blocking I/O in a detached worker. Linux lets a sleep
    // overshoot by the thread's timer slack (50 us by default), which would
    // make a 1 ms task about 5% longer and the ratio smaller than stated.
    thread_local bool precise = prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == 0;
    benchmark::DoNotOptimize(precise);
    bool is_long = slow->count(x) > 0;
    auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(is_long ? tail_long : tail_short);
    auto took = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    (is_long ? timing->long_ns : timing->short_ns) += took;
    (is_long ? timing->long_n : timing->short_n) += 1;
    return x;
  }};
}

void report_timing(benchmark::State& state, const tail_timing& t) {
  auto avg_us = [](const std::atomic<int64_t>& ns, const std::atomic<int64_t>& n) {
    return n.load() == 0 ? 0.0 : static_cast<double>(ns.load()) / n.load() / 1000.0;
  };
  auto s = avg_us(t.short_ns, t.short_n);
  auto l = avg_us(t.long_ns, t.long_n);
  state.counters["short_us"] = s;
  state.counters["long_us"] = l;
  state.counters["long_x"] = s > 0 ? l / s : 0.0;
}

caf::actor spawn_blocking(caf::actor_system& sys,
                          std::shared_ptr<const std::unordered_set<int64_t>> slow,
                          std::shared_ptr<tail_timing> timing) {
  return caf::actor_cast<caf::actor>(
      sys.spawn<caf::detached>(blocking_impl, std::move(slow), std::move(timing)));
}

// state.range(2): 0 sends the batch at once, otherwise the window.
void tail_actorkit(benchmark::State& state) {
  auto& sys = sys_pool().get(state.range(0));
  auto slow = long_tasks(state.range(1) == 1);
  auto timing = std::make_shared<tail_timing>();
  auto pool = make_actorkit_pool(
      sys,
      [slow, timing](caf::actor_system& s) { return spawn_blocking(s, slow, timing); },
      1);
  run_batches(state, sys, pool, tail_batch, state.range(2));
  report_timing(state, *timing);
}

void tail_caf_pool(benchmark::State& state) {
  auto& sys = sys_pool().get(state.range(0));
  auto slow = long_tasks(state.range(1) == 1);
  auto timing = std::make_shared<tail_timing>();
  auto pool = make_caf_pool(
      sys, [&sys, slow, timing] { return spawn_blocking(sys, slow, timing); });
  run_batches(state, sys, pool, tail_batch, state.range(2));
  report_timing(state, *timing);
}

// -- memory per queued task ---------------------------------------------------

constexpr int64_t memory_tasks = 100000;

size_t heap_in_use() {
  return mallinfo2().uordblks;
}

// Sends n requests to `target` and answers once they are all sent.
caf::behavior sender_impl(caf::event_based_actor* self, caf::actor target) {
  return {[=](run_atom, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
      self->request(target, caf::infinite, ask_atom_v, i).then([](int64_t) {});
    return n;
  }};
}

void memory_pool(benchmark::State& state) {
  auto& sys = sys_pool().get(state.range(0));
  caf::scoped_actor self{sys};
  double per_task = 0;
  for (auto _ : state) {
    // A new pool each time, so that its queue's buffer is counted too.
    auto pool = make_actorkit_pool(sys, make_worker_factory(echo_impl));
    self->request(pool, caf::infinite, pause_atom_v).receive([] {}, [](caf::error&) {});
    auto sender = sys.spawn(sender_impl, pool);
    auto before = heap_in_use();
    self->request(sender, caf::infinite, run_atom_v, memory_tasks)
        .receive([](int64_t) {}, [](caf::error&) {});
    // Wait until the pool took every request out of its mailbox.
    for (uint64_t queued = 0; queued < static_cast<uint64_t>(memory_tasks);)
      self->request(pool, caf::infinite, stats_atom_v)
          .receive([&](worker_pool_stats& s) { queued = s.queued; },
                   [&](caf::error&) { queued = memory_tasks; });
    per_task = static_cast<double>(heap_in_use() - before) / memory_tasks;
    state.PauseTiming();
    self->send_exit(sender, caf::exit_reason::user_shutdown);
    self->request(pool, caf::infinite, shutdown_atom_v)
        .receive([] {}, [](caf::error&) {});
    state.ResumeTiming();
  }
  state.counters["bytes_per_task"] = per_task;
}

void memory_mailbox(benchmark::State& state) {
  auto& sys = sys_pool().get(state.range(0));
  double per_task = 0;
  for (auto _ : state) {
    // The requests wait in the mailbox of a blocking actor that is not
    // receiving yet.
    caf::scoped_actor target{sys};
    caf::scoped_actor self{sys};
    auto sender = sys.spawn(sender_impl, caf::actor{target});
    auto before = heap_in_use();
    self->request(sender, caf::infinite, run_atom_v, memory_tasks)
        .receive([](int64_t) {}, [](caf::error&) {});
    per_task = static_cast<double>(heap_in_use() - before) / memory_tasks;
    state.PauseTiming();
    self->send_exit(sender, caf::exit_reason::user_shutdown);
    state.ResumeTiming();
  }
  state.counters["bytes_per_task"] = per_task;
}

// WORKER_POOL_BENCH_ITERS fixes the uniform/* iteration count, so that
// callgrind can take (Ir(3 iterations) - Ir(1)) / (2 x batch) per task.
void fixed_iterations(benchmark::internal::Benchmark* b) {
  if (auto* env = std::getenv("WORKER_POOL_BENCH_ITERS"))
    b->Iterations(std::atoll(env));
}

void sched_args(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {2, 0})
    b->Args({threads});
  b->UseRealTime();
  fixed_iterations(b);
}

void uniform_pool_args(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {2, 0})
    for (int64_t redeliveries : {2, 0})
      b->Args({threads, redeliveries});
  b->UseRealTime();
  fixed_iterations(b);
}

void tail_args(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {2, 0})
    for (int64_t periodic : {0, 1})
      b->Args({threads, periodic, 0});
  b->UseRealTime();
}

void tail_window_args(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {2, 0})
    for (int64_t window : {4, 8, 16})
      b->Args({threads, 0, window});
  b->UseRealTime();
}

void memory_args(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {2, 0})
    b->Args({threads});
  b->Iterations(3)->UseRealTime();
}

BENCHMARK(uniform_actorkit)->Name("uniform/worker_pool")->Apply(uniform_pool_args);
BENCHMARK(uniform_actorkit_timeouts)
    ->Name("uniform/worker_pool_timeouts")
    ->Apply(sched_args);
BENCHMARK(uniform_caf_pool)->Name("uniform/caf_actor_pool")->Apply(sched_args);
#ifdef ACTORKIT_BENCH_ASIO
BENCHMARK(uniform_asio)->Name("uniform/asio_thread_pool")->UseRealTime();
#endif
BENCHMARK(tail_actorkit)->Name("heavy_tailed/worker_pool")->Apply(tail_args);
BENCHMARK(tail_caf_pool)->Name("heavy_tailed/caf_actor_pool")->Apply(tail_args);
BENCHMARK(tail_actorkit)
    ->Name("heavy_tailed_window/worker_pool")
    ->Apply(tail_window_args);
BENCHMARK(tail_caf_pool)
    ->Name("heavy_tailed_window/caf_actor_pool")
    ->Apply(tail_window_args);
BENCHMARK(memory_pool)->Name("memory/worker_pool")->Apply(memory_args);
BENCHMARK(memory_mailbox)->Name("memory/mailbox")->Apply(memory_args);

} // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv))
    return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  actorkit::bench::release_systems();
  return 0;
}
