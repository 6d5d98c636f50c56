// The tour: every demo's scenario in turn, each under a heading. This is what
// the README's first command runs.
#include <iostream>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>

void dashboard_scenario(caf::actor_system& sys);
void sequence_scenario(caf::actor_system& sys);
void worker_pool_scenario(caf::actor_system& sys);
void worker_pool_priority_scenario(caf::actor_system& sys);
void mutex_scenario(caf::actor_system& sys);
void serialized_scenario(caf::actor_system& sys);
void latest_wins_scenario(caf::actor_system& sys);

namespace {

struct stop {
  const char* title;
  void (*run)(caf::actor_system&);
};

} // namespace

void caf_main(caf::actor_system& sys, const actorkit::config& cfg) {
  if (auto err = actorkit::apply_options(cfg)) {
    std::cerr << sys.render(err) << "\n";
    return;
  }
  stop stops[] = {
      {"Parallel: all, all_settled, map_limit (dashboard demo)", dashboard_scenario},
      {"Sequential: sequence, reduce, waterfall (sequence demo)", sequence_scenario},
      {"Worker pool: bounded concurrency, crash re-dispatch, stuck workers (pool demo)",
       worker_pool_scenario},
      {"Priority pool: urgent work overtakes queued work (priority_pool demo)",
       worker_pool_priority_scenario},
      {"Race conditions: mutex, with_lock, serialized state (mutex demo)",
       mutex_scenario},
      {"Serialized state: async updates one at a time (serialized demo)",
       serialized_scenario},
      {"Latest wins: search-as-you-type (latest_wins demo)", latest_wins_scenario},
  };
  int n = 0;
  for (auto& s : stops) {
    std::cout << "\n=== " << ++n << ". " << s.title << " ===\n\n";
    s.run(sys);
  }
  std::cout << "\nTour complete.\n";
}

CAF_MAIN()
