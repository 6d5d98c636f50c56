// The mutex beside what it cannot avoid, in the same process, on two actor
// systems (--scheduler.max-threads=2 and CAF's default thread count).
//
// - uncontended: one acquire + release by one driver actor, beside two raw
//   request/response round trips to a state actor (get, then put: the
//   messages a lock round trip cannot avoid) and beside one round trip.
// - contended: 16 client actors each looping acquire -> release until
//   `grants_per_run` leases were granted in all; throughput and fairness
//   (max/min grants per client), beside 16 threads on a std::mutex.
//
// `mutex_bench count <op> <n>` runs `n` operations of one kind outside Google
// Benchmark, for instruction counts under callgrind:
//   valgrind --tool=callgrind ./mutex_bench count lock 1000   (then 3000)
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/actors/mutex.hpp>
#include <actorkit/patterns/with_lock.hpp>

#include "bench_systems.hpp"

namespace {

using actorkit::bench::sys_pool;

using namespace actorkit;

constexpr int64_t batch = 1000;

caf::behavior state_impl(caf::event_based_actor*) {
  auto value = std::make_shared<int64_t>(0);
  return {[=](get_atom) { return *value; }, [=](put_atom, int64_t x) { *value = x; }};
}

// Runs `n` steps back to back, each started when the previous completed.
template <class Step>
caf::behavior driver_impl(caf::event_based_actor* self, Step step) {
  return {[=](run_atom, int64_t n) {
    auto rp = self->make_response_promise<int64_t>();
    auto left = std::make_shared<int64_t>(n);
    auto next = std::make_shared<std::function<void()>>();
    *next = [=]() mutable {
      if ((*left)-- == 0) {
        rp.deliver(n);
        *next = nullptr;
        return;
      }
      step(self, *next);
    };
    (*next)();
    return rp;
  }};
}

struct lock_step {
  mutex_actor mtx;
  template <class F>
  void operator()(caf::event_based_actor* self, F& next) const {
    auto m = mtx;
    self->request(m, caf::infinite, acquire_atom_v, no_limit, no_limit)
        .then([self, m, next](lease l) {
          self->request(m, caf::infinite, release_atom_v, l).then([next]() { next(); });
        });
  }
};

struct with_lock_step {
  mutex_actor mtx;
  template <class F>
  void operator()(caf::event_based_actor* self, F& next) const {
    with_lock<int64_t>(
        self, mtx,
        [](const lease& l, auto finish) { finish(static_cast<int64_t>(l.token)); },
        [next](caf::expected<int64_t> r) {
          benchmark::DoNotOptimize(r);
          next();
        });
  }
};

struct two_round_trips_step {
  caf::actor state;
  template <class F>
  void operator()(caf::event_based_actor* self, F& next) const {
    auto s = state;
    self->request(s, caf::infinite, get_atom_v).then([self, s, next](int64_t x) {
      self->request(s, caf::infinite, put_atom_v, x + 1).then([next]() { next(); });
    });
  }
};

struct one_round_trip_step {
  caf::actor state;
  template <class F>
  void operator()(caf::event_based_actor* self, F& next) const {
    self->request(state, caf::infinite, get_atom_v).then([next](int64_t x) {
      benchmark::DoNotOptimize(x);
      next();
    });
  }
};

template <class Step>
int64_t run_driver(caf::actor_system& sys, Step step, int64_t n, int64_t iterations = 1) {
  auto driver = sys.spawn(driver_impl<Step>, step);
  caf::scoped_actor self{sys};
  int64_t total = 0;
  for (int64_t i = 0; i < iterations; ++i)
    self->request(driver, caf::infinite, run_atom_v, n)
        .receive([&](int64_t x) { total += x; }, [](caf::error&) {});
  self->send_exit(driver, caf::exit_reason::user_shutdown);
  return total;
}

// -- uncontended --------------------------------------------------------------

template <class Make>
void uncontended(benchmark::State& state, Make make) {
  auto& sys = sys_pool().get(state.range(0));
  auto m = spawn_mutex(sys, {});
  auto target = sys.spawn(state_impl);
  auto step = make(*m, target);
  auto driver = sys.spawn(driver_impl<decltype(step)>, step);
  caf::scoped_actor self{sys};
  for (auto _ : state)
    self->request(driver, caf::infinite, run_atom_v, batch)
        .receive([](int64_t) {},
                 [&](caf::error& e) { state.SkipWithError(to_string(e).c_str()); });
  state.SetItemsProcessed(state.iterations() * batch);
  self->send_exit(driver, caf::exit_reason::user_shutdown);
  self->send_exit(*m, caf::exit_reason::user_shutdown);
  self->send_exit(target, caf::exit_reason::user_shutdown);
}

void BM_lock_release(benchmark::State& state) {
  uncontended(state, [](mutex_actor m, caf::actor) { return lock_step{m}; });
}
void BM_with_lock(benchmark::State& state) {
  uncontended(state, [](mutex_actor m, caf::actor) { return with_lock_step{m}; });
}
void BM_two_round_trips(benchmark::State& state) {
  uncontended(state, [](mutex_actor, caf::actor s) { return two_round_trips_step{s}; });
}
void BM_one_round_trip(benchmark::State& state) {
  uncontended(state, [](mutex_actor, caf::actor s) { return one_round_trip_step{s}; });
}

// -- contended ------------------------------------------------------------------

constexpr int clients = 16;
constexpr int64_t grants_per_run = 16000;

struct fairness {
  std::vector<int64_t> grants = std::vector<int64_t>(clients);
  double ratio() const {
    auto [lo, hi] = std::minmax_element(grants.begin(), grants.end());
    return *lo == 0 ? 1e9 : static_cast<double>(*hi) / static_cast<double>(*lo);
  }
};

// One run: 16 clients loop acquire -> release until `grants_per_run` grants
// in all. The run starts with every client queued: the benchmark holds the
// lock while the clients are spawned and their first acquires arrive, so
// that the figure measures the mutex, not the order in which the scheduler
// first runs the clients.
fairness contended_run(caf::actor_system& sys, mutex_actor m) {
  auto left = std::make_shared<std::atomic<int64_t>>(grants_per_run);
  fairness f;
  caf::scoped_actor self{sys};
  caf::actor reporter = self;
  lease gate;
  self->request(m, caf::infinite, acquire_atom_v, no_limit, no_limit)
      .receive([&](lease l) { gate = l; }, [](caf::error&) {});
  for (int c = 0; c < clients; ++c)
    sys.spawn([=](caf::event_based_actor* client) {
      auto count = std::make_shared<int64_t>(0);
      auto loop = std::make_shared<std::function<void()>>();
      *loop = [=]() {
        client->request(m, caf::infinite, acquire_atom_v, no_limit, no_limit)
            .then([=](lease l) {
              auto more = left->fetch_sub(1) > 1;
              ++*count;
              client->request(m, caf::infinite, release_atom_v, l).then([=]() {
                if (more && left->load() > 0) {
                  (*loop)();
                } else {
                  client->send(reporter, done_atom_v, int64_t{c}, *count);
                  *loop = nullptr;
                  client->quit();
                }
              });
            });
      };
      (*loop)();
    });
  for (uint64_t queued = 0; queued < clients;)
    self->request(m, caf::infinite, stats_atom_v)
        .receive([&](const mutex_stats& s) { queued = s.queued; },
                 [&](caf::error&) { queued = clients; });
  self->request(m, caf::infinite, release_atom_v, gate)
      .receive([] {}, [](caf::error&) {});
  for (int c = 0; c < clients; ++c)
    self->receive([&](done_atom, int64_t who, int64_t n) {
      f.grants[static_cast<size_t>(who)] = n;
    });
  return f;
}

void BM_contended_mutex(benchmark::State& state) {
  auto& sys = sys_pool().get(state.range(0));
  auto m = spawn_mutex(sys, {});
  double worst = 0;
  double sum = 0;
  for (auto _ : state) {
    auto r = contended_run(sys, *m).ratio();
    worst = std::max(worst, r);
    sum += r;
  }
  state.SetItemsProcessed(state.iterations() * grants_per_run);
  state.counters["max_min_mean"] = sum / static_cast<double>(state.iterations());
  state.counters["max_min_worst"] = worst;
  caf::anon_send_exit(*m, caf::exit_reason::user_shutdown);
}

void BM_contended_std_mutex(benchmark::State& state) {
  double starved = 0;
  double sum = 0;
  int64_t fair_runs = 0;
  for (auto _ : state) {
    std::mutex mtx;
    int64_t counter = 0;
    std::atomic<int64_t> left{grants_per_run};
    fairness f;
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c)
      threads.emplace_back([&, c] {
        int64_t n = 0;
        while (left.load() > 0) {
          std::lock_guard<std::mutex> guard{mtx};
          if (left.fetch_sub(1) <= 0)
            break;
          ++counter;
          ++n;
        }
        f.grants[static_cast<size_t>(c)] = n;
      });
    for (auto& t : threads)
      t.join();
    benchmark::DoNotOptimize(counter);
    auto zero = std::count(f.grants.begin(), f.grants.end(), int64_t{0});
    starved += static_cast<double>(zero);
    if (zero == 0) {
      sum += f.ratio();
      ++fair_runs;
    }
  }
  state.SetItemsProcessed(state.iterations() * grants_per_run);
  // Threads that got no grant at all in a run (averaged), and max/min over
  // the runs where every thread got at least one.
  state.counters["starved_threads"] = starved / static_cast<double>(state.iterations());
  state.counters["max_min_mean"] =
      fair_runs > 0 ? sum / static_cast<double>(fair_runs) : 0;
}

void scheduler_args(benchmark::internal::Benchmark* b) {
  b->Arg(2)->Arg(0)->UseRealTime();
}

BENCHMARK(BM_lock_release)->Name("uncontended/acquire_release")->Apply(scheduler_args);
BENCHMARK(BM_with_lock)->Name("uncontended/with_lock")->Apply(scheduler_args);
BENCHMARK(BM_two_round_trips)
    ->Name("uncontended/two_raw_round_trips")
    ->Apply(scheduler_args);
BENCHMARK(BM_one_round_trip)
    ->Name("uncontended/one_raw_round_trip")
    ->Apply(scheduler_args);
BENCHMARK(BM_contended_mutex)->Name("contended16/mutex_actor")->Apply(scheduler_args);
BENCHMARK(BM_contended_std_mutex)->Name("contended16/std_mutex_threads")->UseRealTime();

int count_main(const std::string& op, int64_t n) {
  auto& sys = sys_pool().get(2);
  auto m = spawn_mutex(sys, {});
  auto target = sys.spawn(state_impl);
  int64_t done = 0;
  if (op == "lock")
    done = run_driver(sys, lock_step{*m}, n);
  else if (op == "with_lock")
    done = run_driver(sys, with_lock_step{*m}, n);
  else if (op == "two")
    done = run_driver(sys, two_round_trips_step{target}, n);
  else if (op == "one")
    done = run_driver(sys, one_round_trip_step{target}, n);
  else if (op == "fairness") {
    for (int64_t i = 0; i < n; ++i) {
      auto f = contended_run(sys, *m);
      std::cout << "grants per client:";
      for (auto g : f.grants)
        std::cout << ' ' << g;
      std::cout << " (max/min " << f.ratio() << ")\n";
    }
    done = n;
  } else
    std::cerr << "unknown op " << op << " (lock, with_lock, two, one)\n";
  caf::anon_send_exit(*m, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(target, caf::exit_reason::user_shutdown);
  std::cout << op << ": " << done << " operations\n";
  return done == n ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  return actorkit::bench::run_main(argc, argv, "count", 4, [](char** args) {
    return count_main(args[0], std::stoll(args[1]));
  });
}
