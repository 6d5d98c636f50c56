// The latest-wins gate beside plain requests, in the same process, on two
// actor systems (--scheduler.max-threads=2 and CAF's default thread count).
//
// - per_update: one submit through the gate (one key) to an echo worker and
//   back, beside one plain request to the same worker.
// - burst16: 16 submits for one key at once, then all 16 answers (15
//   superseded, the newest with its value), with the gate letting up to 64
//   or only 1 request at the worker; beside 16 plain requests that all run
//   to completion. The counter `worker_calls_per_burst` is how much stale
//   work still reached the worker.
//
// `latest_wins_bench count <gate|gate30|plain> <n>` runs `n` sequential updates
// outside Google Benchmark, for instruction counts under callgrind.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/actors/latest_wins.hpp>

#include "bench_systems.hpp"

namespace {

using actorkit::bench::sys_pool;

using namespace actorkit;

constexpr int64_t batch = 1000;
constexpr int64_t burst = 16;

caf::behavior worker_impl(caf::event_based_actor*,
                          std::shared_ptr<std::atomic<int64_t>> calls) {
  return {[=](ask_atom, int64_t x) {
    ++*calls;
    return x;
  }};
}

using gate_actor = latest_wins_actor<int64_t>;

// Runs `n` updates one after another: through the gate or straight to the
// worker.
caf::behavior sequential_driver(caf::event_based_actor* self, caf::actor target,
                                bool gated) {
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
      auto cont = [next](int64_t x) {
        benchmark::DoNotOptimize(x);
        (*next)();
      };
      if (gated)
        self->request(target, caf::infinite, submit_atom_v, std::string{"k"},
                      caf::make_message(ask_atom_v, *left))
            .then(cont);
      else
        self->request(target, caf::infinite, ask_atom_v, *left).then(cont);
    };
    (*next)();
    return rp;
  }};
}

// Sends one burst at once and answers when every reply is in.
caf::behavior burst_driver(caf::event_based_actor* self, caf::actor target, bool gated) {
  return {[=](run_atom, int64_t n) {
    auto rp = self->make_response_promise<int64_t>();
    auto pending = std::make_shared<std::pair<int64_t, decltype(rp)>>(n, rp);
    auto one = [pending, n]() {
      if (--pending->first == 0)
        pending->second.deliver(n);
    };
    for (int64_t i = 0; i < n; ++i) {
      if (gated)
        self->request(target, caf::infinite, submit_atom_v, std::string{"k"},
                      caf::make_message(ask_atom_v, i))
            .then([=](int64_t) { one(); }, [=](caf::error&) { one(); });
      else
        self->request(target, caf::infinite, ask_atom_v, i)
            .then([=](int64_t) { one(); }, [=](caf::error&) { one(); });
    }
    return rp;
  }};
}

struct setup {
  caf::actor_system& sys;
  std::shared_ptr<std::atomic<int64_t>> calls = std::make_shared<std::atomic<int64_t>>(0);
  caf::actor worker;
  caf::actor gate;

  setup(caf::actor_system& s, size_t max_in_flight, caf::timespan timeout = no_limit)
      : sys(s) {
    worker = sys.spawn(worker_impl, calls);
    latest_wins_config cfg;
    cfg.worker = worker;
    cfg.max_in_flight = max_in_flight;
    cfg.worker_timeout = timeout;
    gate = caf::actor_cast<caf::actor>(*spawn_latest_wins<int64_t>(sys, cfg));
  }

  ~setup() {
    caf::anon_send_exit(gate, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
  }
};

template <class Driver>
void run_batches(benchmark::State& state, caf::actor_system& sys, caf::actor driver,
                 int64_t per_iteration) {
  caf::scoped_actor self{sys};
  for (auto _ : state)
    self->request(driver, caf::infinite, run_atom_v, per_iteration)
        .receive([](int64_t) {},
                 [&](caf::error& e) { state.SkipWithError(to_string(e).c_str()); });
  self->send_exit(driver, caf::exit_reason::user_shutdown);
}

// The plain baseline sends without a timeout, so the gate runs without one
// too; the "_30s" variant shows the default worker_timeout (a clock entry per
// request).
void BM_per_update(benchmark::State& state, bool gated, caf::timespan timeout) {
  auto& sys = sys_pool().get(state.range(0));
  setup s{sys, 64, timeout};
  auto driver = sys.spawn(sequential_driver, gated ? s.gate : s.worker, gated);
  run_batches<void>(state, sys, driver, batch);
  state.SetItemsProcessed(state.iterations() * batch);
}

void BM_burst(benchmark::State& state, bool gated, size_t max_in_flight) {
  auto& sys = sys_pool().get(state.range(0));
  setup s{sys, max_in_flight};
  auto driver = sys.spawn(burst_driver, gated ? s.gate : s.worker, gated);
  run_batches<void>(state, sys, driver, burst);
  state.SetItemsProcessed(state.iterations() * burst);
  state.counters["worker_calls_per_burst"] =
      static_cast<double>(s.calls->load()) / static_cast<double>(state.iterations());
}

void scheduler_args(benchmark::internal::Benchmark* b) {
  b->Arg(2)->Arg(0)->UseRealTime();
}

BENCHMARK_CAPTURE(BM_per_update, gate, true, no_limit)
    ->Name("per_update/gate")
    ->Apply(scheduler_args);
BENCHMARK_CAPTURE(BM_per_update, gate30, true, std::chrono::seconds(30))
    ->Name("per_update/gate_timeout_30s")
    ->Apply(scheduler_args);
BENCHMARK_CAPTURE(BM_per_update, plain, false, no_limit)
    ->Name("per_update/plain_request")
    ->Apply(scheduler_args);
BENCHMARK_CAPTURE(BM_burst, gate64, true, 64)
    ->Name("burst16/gate_max_in_flight_64")
    ->Apply(scheduler_args);
BENCHMARK_CAPTURE(BM_burst, gate1, true, 1)
    ->Name("burst16/gate_max_in_flight_1")
    ->Apply(scheduler_args);
BENCHMARK_CAPTURE(BM_burst, plain, false, 64)
    ->Name("burst16/plain_requests")
    ->Apply(scheduler_args);

int count_main(const std::string& op, int64_t n) {
  auto& sys = sys_pool().get(2);
  setup s{sys, 64, op == "gate30" ? caf::timespan{std::chrono::seconds(30)} : no_limit};
  bool gated = op == "gate" || op == "gate30";
  auto driver = sys.spawn(sequential_driver, gated ? s.gate : s.worker, gated);
  caf::scoped_actor self{sys};
  int64_t done = 0;
  self->request(driver, caf::infinite, run_atom_v, n)
      .receive([&](int64_t x) { done = x; }, [](caf::error&) {});
  self->send_exit(driver, caf::exit_reason::user_shutdown);
  std::cout << op << ": " << done << " updates\n";
  return done == n ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  return actorkit::bench::run_main(argc, argv, "count", 4, [](char** args) {
    return count_main(args[0], std::stoll(args[1]));
  });
}
