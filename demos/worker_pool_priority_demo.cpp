// Priority pool: the lesson's PriorityPromisePool, as a worker pool whose
// tasks carry an integer priority.
//
// One worker renders reports (50 ms each). Five low-priority reports are
// queued first; then three urgent alerts arrive. The alerts overtake every
// report still waiting, and within one priority the order of arrival holds.
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/actors/worker_pool.hpp>
#include <actorkit/patterns/execute_all.hpp>

namespace {

using namespace std::chrono_literals;

/// A worker answering (ask_atom, name) with "<name> done" after 50 ms, and
/// printing each job as it starts.
caf::behavior render_worker(caf::event_based_actor* self) {
  return {
      [=](actorkit::ask_atom, const std::string& job) -> caf::result<std::string> {
        std::cout << "  worker starts " << job << "\n";
        auto rp = self->make_response_promise<std::string>();
        self->delayed_send(self, 50ms, actorkit::done_atom_v, job);
        self->become(caf::keep_behavior,
                     [=](actorkit::done_atom, const std::string&) mutable {
                       rp.deliver(job + " done");
                       self->unbecome();
                     });
        return rp;
      },
  };
}

} // namespace

void worker_pool_priority_scenario(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  actorkit::worker_pool_config cfg;
  cfg.workers = 1;
  auto pool =
      actorkit::spawn_worker_pool(sys, cfg, actorkit::make_worker_factory(render_worker));
  if (!pool) {
    std::cout << "pool refused: " << sys.render(pool.error()) << "\n";
    return;
  }
  std::vector<caf::message> jobs;
  std::cout << "queued first, priority 0: report-1 .. report-5\n";
  for (int i = 1; i <= 5; ++i)
    jobs.push_back(
        actorkit::prioritized(0, actorkit::ask_atom_v, "report-" + std::to_string(i)));
  std::cout << "queued after, priority 10: alert-1 .. alert-3\n\n";
  for (int i = 1; i <= 3; ++i)
    jobs.push_back(
        actorkit::prioritized(10, actorkit::ask_atom_v, "alert-" + std::to_string(i)));
  auto results = actorkit::execute_all<std::string>(self, *pool, jobs);
  if (results) {
    std::cout << "\nanswers, in the order the jobs were submitted:\n ";
    for (auto& r : *results)
      std::cout << " " << r << ";";
    std::cout << "\n";
  } else {
    std::cout << "failed: " << sys.render(results.error()) << "\n";
  }
  std::cout << "report-1 was already running; every alert ran before the reports "
               "still waiting.\n";
  self->send(*pool, actorkit::shutdown_atom_v);
}

#ifndef ACTORKIT_TOUR
void caf_main(caf::actor_system& sys, const actorkit::config& cfg) {
  if (auto err = actorkit::apply_options(cfg)) {
    std::cerr << sys.render(err) << "\n";
    return;
  }
  worker_pool_priority_scenario(sys);
}

CAF_MAIN()
#endif
