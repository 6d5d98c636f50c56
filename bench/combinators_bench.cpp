// all, all_settled and map_limit beside hand-written equivalents over response
// promises, in the same process, on two actor systems: one with
// --scheduler.max-threads=2 and one with CAF's default thread count.
//
// One benchmark iteration = one batch of `batch` compositions run back to back
// by a driver actor (the next starts when the previous completes), so the
// blocking round trip that starts the batch is amortized.
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>

#include "bench_systems.hpp"
#include <actorkit/patterns/map_limit.hpp>
#include <actorkit/patterns/parallel.hpp>

namespace {

using actorkit::bench::sys_pool;

using namespace actorkit;

constexpr int64_t batch = 100;
constexpr caf::timespan timeout = std::chrono::seconds(30);

caf::behavior echo_impl() {
  return {[](ask_atom, int64_t x) { return x; }};
}

std::vector<caf::actor> spawn_servers(caf::actor_system& sys, size_t k) {
  std::vector<caf::actor> xs;
  for (size_t i = 0; i < k; ++i)
    xs.push_back(sys.spawn(echo_impl));
  return xs;
}

std::vector<call<int64_t>> make_calls(const std::vector<caf::actor>& servers, int64_t x) {
  std::vector<call<int64_t>> calls;
  for (auto& s : servers)
    calls.push_back(ask<int64_t>(s, ask_atom_v, x));
  return calls;
}

// -- drivers: run `n` compositions one after another, then answer ------------

// One composition step: step(self, servers, next), where next() must be called
// once when the composition completes. Patterns build their calls inside the
// step, as real code would.
template <class Step>
caf::behavior driver_impl(caf::event_based_actor* self, std::vector<caf::actor> servers,
                          Step step) {
  // Steps may keep references to the servers: they live as long as the driver.
  auto shared_servers =
      std::make_shared<const std::vector<caf::actor>>(std::move(servers));
  return {[=](run_atom, int64_t n) {
    auto rp = self->make_response_promise<int64_t>();
    auto left = std::make_shared<int64_t>(n);
    auto next = std::make_shared<std::function<void()>>();
    *next = [=]() mutable {
      if ((*left)-- == 0) {
        rp.deliver(n);
        *next = nullptr; // breaks the self-reference
        return;
      }
      step(self, *shared_servers, *next);
    };
    (*next)();
    return rp;
  }};
}

struct pattern_all {
  template <class F>
  void operator()(caf::event_based_actor* self, const std::vector<caf::actor>& servers,
                  F& next) const {
    all(self, make_calls(servers, 7), [next](caf::expected<std::vector<int64_t>> r) {
      benchmark::DoNotOptimize(r);
      next();
    });
  }
};

struct manual_all {
  template <class F>
  void operator()(caf::event_based_actor* self, const std::vector<caf::actor>& servers,
                  F& next) const {
    struct state {
      std::vector<int64_t> results;
      size_t pending;
      bool finished = false;
    };
    auto st = std::make_shared<state>(
        state{std::vector<int64_t>(servers.size()), servers.size()});
    for (size_t i = 0; i < servers.size(); ++i)
      self->request(servers[i], timeout, ask_atom_v, int64_t{7})
          .then(
              [st, i, next](int64_t x) {
                if (st->finished)
                  return;
                st->results[i] = x;
                if (--st->pending == 0) {
                  st->finished = true;
                  benchmark::DoNotOptimize(st->results);
                  next();
                }
              },
              [st, next](caf::error&) {
                if (!st->finished) {
                  st->finished = true;
                  next();
                }
              });
  }
};

struct pattern_all_settled {
  template <class F>
  void operator()(caf::event_based_actor* self, const std::vector<caf::actor>& servers,
                  F& next) const {
    all_settled(self, make_calls(servers, 7),
                [next](std::vector<caf::expected<int64_t>> r) {
                  benchmark::DoNotOptimize(r);
                  next();
                });
  }
};

struct manual_all_settled {
  template <class F>
  void operator()(caf::event_based_actor* self, const std::vector<caf::actor>& servers,
                  F& next) const {
    struct state {
      std::vector<caf::expected<int64_t>> results;
      size_t pending;
      F next;
    };
    auto st = std::make_shared<state>(
        state{std::vector<caf::expected<int64_t>>(servers.size(),
                                                  caf::expected<int64_t>{caf::error{}}),
              servers.size(), next});
    for (size_t i = 0; i < servers.size(); ++i)
      self->request(servers[i], timeout, ask_atom_v, int64_t{7})
          .then(
              [st, i](int64_t x) {
                st->results[i] = x;
                if (--st->pending == 0) {
                  benchmark::DoNotOptimize(st->results);
                  st->next();
                }
              },
              [st, i](caf::error& e) {
                st->results[i] = std::move(e);
                if (--st->pending == 0)
                  st->next();
              });
  }
};

constexpr size_t map_inputs = 64;
constexpr size_t map_limit_n = 8;

struct pattern_map_limit {
  template <class F>
  void operator()(caf::event_based_actor* self, const std::vector<caf::actor>& servers,
                  F& next) const {
    std::vector<int64_t> inputs(map_inputs);
    for (size_t i = 0; i < map_inputs; ++i)
      inputs[i] = static_cast<int64_t>(i);
    map_limit(
        self, std::move(inputs), map_limit_n,
        [&servers](int64_t x) {
          return ask<int64_t>(servers[static_cast<size_t>(x) % servers.size()],
                              ask_atom_v, x);
        },
        [next](caf::expected<std::vector<int64_t>> r) {
          benchmark::DoNotOptimize(r);
          next();
        });
  }
};

struct manual_map_limit {
  template <class F>
  void operator()(caf::event_based_actor* self, const std::vector<caf::actor>& servers,
                  F& next) const {
    struct state : std::enable_shared_from_this<state> {
      caf::event_based_actor* self;
      std::vector<caf::actor> servers;
      std::vector<int64_t> results;
      size_t next_index = 0;
      size_t done = 0;
      bool failed = false;
      std::function<void()> finish;
      void launch() {
        auto i = next_index++;
        auto x = static_cast<int64_t>(i);
        self->request(servers[i % servers.size()], timeout, ask_atom_v, x)
            .then(
                [st = this->shared_from_this(), i](int64_t y) {
                  if (st->failed)
                    return;
                  st->results[i] = y;
                  if (++st->done == st->results.size()) {
                    benchmark::DoNotOptimize(st->results);
                    st->finish();
                  } else if (st->next_index < st->results.size()) {
                    st->launch();
                  }
                },
                [st = this->shared_from_this()](caf::error&) {
                  if (!st->failed) {
                    st->failed = true;
                    st->finish();
                  }
                });
      }
    };
    auto st = std::make_shared<state>();
    st->self = self;
    st->servers = servers;
    st->results.resize(map_inputs);
    st->finish = next;
    for (size_t i = 0; i < map_limit_n; ++i)
      st->launch();
  }
};

// -- benchmark body -----------------------------------------------------------

// state.range(0): scheduler (2 = max-threads 2, 0 = default);
// state.range(1): number of servers K.
template <class Step>
void run_bench(benchmark::State& state) {
  auto& sys = sys_pool().get(state.range(0));
  auto servers = spawn_servers(sys, static_cast<size_t>(state.range(1)));
  auto driver = sys.spawn(driver_impl<Step>, servers, Step{});
  caf::scoped_actor self{sys};
  for (auto _ : state) {
    self->request(driver, caf::infinite, run_atom_v, batch)
        .receive([](int64_t) {},
                 [&](caf::error& e) { state.SkipWithError(to_string(e).c_str()); });
  }
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["threads"] = static_cast<double>(state.range(0));
  self->send_exit(driver, caf::exit_reason::user_shutdown);
  for (auto& s : servers)
    self->send_exit(s, caf::exit_reason::user_shutdown);
}

void server_args(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {2, 0})
    for (int64_t k : {1, 8, 64})
      b->Args({threads, k});
  b->UseRealTime();
}

void map_args(benchmark::internal::Benchmark* b) {
  for (int64_t threads : {2, 0})
    b->Args({threads, 8});
  b->UseRealTime();
}

BENCHMARK_TEMPLATE(run_bench, pattern_all)->Name("all/pattern")->Apply(server_args);
BENCHMARK_TEMPLATE(run_bench, manual_all)->Name("all/hand_written")->Apply(server_args);
BENCHMARK_TEMPLATE(run_bench, pattern_all_settled)
    ->Name("all_settled/pattern")
    ->Apply(server_args);
BENCHMARK_TEMPLATE(run_bench, manual_all_settled)
    ->Name("all_settled/hand_written")
    ->Apply(server_args);
BENCHMARK_TEMPLATE(run_bench, pattern_map_limit)
    ->Name("map_limit/pattern")
    ->Apply(map_args);
BENCHMARK_TEMPLATE(run_bench, manual_map_limit)
    ->Name("map_limit/hand_written")
    ->Apply(map_args);

// -- fixed-work mode for instruction counts ------------------------------------

// Runs `batches` batches of one variant on a 2-thread system, untimed, so that
// callgrind can count instructions: (Ir(3N) - Ir(N)) / 2N cancels start-up.
template <class Step>
void run_fixed(int64_t servers_k, int64_t batches) {
  auto& sys = sys_pool().get(2);
  auto servers = spawn_servers(sys, static_cast<size_t>(servers_k));
  auto driver = sys.spawn(driver_impl<Step>, servers, Step{});
  caf::scoped_actor self{sys};
  for (int64_t i = 0; i < batches; ++i)
    self->request(driver, caf::infinite, run_atom_v, batch)
        .receive([](int64_t) {}, [](caf::error&) {});
  self->send_exit(driver, caf::exit_reason::user_shutdown);
  for (auto& s : servers)
    self->send_exit(s, caf::exit_reason::user_shutdown);
}

int fixed_mode(const std::string& variant, int64_t k, int64_t batches) {
  if (variant == "all/pattern")
    run_fixed<pattern_all>(k, batches);
  else if (variant == "all/hand_written")
    run_fixed<manual_all>(k, batches);
  else if (variant == "all_settled/pattern")
    run_fixed<pattern_all_settled>(k, batches);
  else if (variant == "all_settled/hand_written")
    run_fixed<manual_all_settled>(k, batches);
  else if (variant == "map_limit/pattern")
    run_fixed<pattern_map_limit>(k, batches);
  else if (variant == "map_limit/hand_written")
    run_fixed<manual_map_limit>(k, batches);
  else
    return 2;
  return 0;
}

} // namespace

// Usage: combinators_bench [google benchmark flags]
//    or: combinators_bench --fixed <variant> <servers> <batches>
int main(int argc, char** argv) {
  return actorkit::bench::run_main(argc, argv, "--fixed", 5, [](char** args) {
    return fixed_mode(args[0], std::stoll(args[1]), std::stoll(args[2]));
  });
}
