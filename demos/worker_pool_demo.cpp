// Worker pool: the lesson's PromisePool, as a group of worker actors behind one
// pool actor.
//
// Twenty user fetches (100 ms each) go through a pool of three workers: the
// workers print how many fetches are in flight (never more than three) and the
// whole batch takes about ceil(20 / 3) x 100 ms. Then a worker crashes in the
// middle of a fetch: the pool replaces it and runs the fetch again on another
// worker. Then a worker gets stuck: after the task timeout its caller is
// answered, the worker is killed and a fresh one takes over. Last, a backlog
// meets a queue timeout: fetches that could not start in time are answered
// `overloaded` without running. Last, workers that crash as they start (their
// database is down) are replaced after a doubling restart back-off instead of
// in a tight loop.
#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <unordered_map>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/actors/worker_pool.hpp>
#include <actorkit/patterns/execute_all.hpp>

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

long long ms_since(steady::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0)
      .count();
}

/// What the fetch workers share: how many fetches run right now, the most
/// ever, and which users misbehave.
struct fetch_env {
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<bool> crash_once_on_13{false};
  std::atomic<bool> hang_on_99{false};
  std::atomic<bool> verbose{true};
  /// Workers still to crash right as they start.
  std::atomic<int> failing_starts{0};
};

/// A worker fetching (ask_atom, id) -> "user <id>" after 100 ms.
caf::behavior fetch_worker(caf::event_based_actor* self, fetch_env* env) {
  if (env->failing_starts.fetch_sub(1) > 0) {
    std::cout << "  a new worker cannot reach its database and crashes\n";
    self->quit(caf::make_error(caf::sec::runtime_error, "database unreachable"));
    return {};
  }
  env->failing_starts = 0;
  auto pending = std::make_shared<
      std::unordered_map<int64_t, caf::typed_response_promise<std::string>>>();
  return {
      [=](actorkit::ask_atom, int64_t id) -> caf::result<std::string> {
        auto rp = self->make_response_promise<std::string>();
        if (id == 13 && env->crash_once_on_13.exchange(false)) {
          std::cout << "  worker crashes while fetching user 13\n";
          self->quit(caf::make_error(caf::sec::runtime_error, "worker crashed"));
          return rp;
        }
        if (id == 99 && env->hang_on_99) {
          std::cout << "  worker got stuck fetching user 99\n";
          return rp; // never delivered
        }
        auto now = ++env->in_flight;
        auto prev = env->max_in_flight.load();
        while (now > prev && !env->max_in_flight.compare_exchange_weak(prev, now)) {
        }
        if (env->verbose)
          std::cout << "  fetch user " << id << " started, in flight: " << now << "\n";
        pending->emplace(id, rp);
        self->delayed_send(self, 100ms, actorkit::done_atom_v, id);
        return rp;
      },
      [=](actorkit::done_atom, int64_t id) {
        auto i = pending->find(id);
        if (i == pending->end())
          return;
        --env->in_flight;
        i->second.deliver("user " + std::to_string(id));
        pending->erase(i);
      },
  };
}

std::vector<caf::message> fetches(int64_t first, int64_t last) {
  std::vector<caf::message> result;
  for (auto id = first; id <= last; ++id)
    result.push_back(caf::make_message(actorkit::ask_atom_v, id));
  return result;
}

actorkit::worker_pool_stats stats_of(caf::scoped_actor& self, const caf::actor& pool) {
  actorkit::worker_pool_stats result;
  self->request(pool, caf::infinite, actorkit::stats_atom_v)
      .receive([&](actorkit::worker_pool_stats& s) { result = s; }, [&](caf::error&) {});
  return result;
}

// Prints the pool events waiting in `listener`'s mailbox.
void print_events(caf::scoped_actor& listener) {
  for (bool more = true; more;)
    listener->receive(
        [](actorkit::worker_pool_event& ev) {
          std::cout << "  [event] " << to_string(ev.kind);
          if (ev.kind == actorkit::pool_event::restart_delayed)
            std::cout << " (" << ev.task << " ms)";
          if (!ev.reason.empty())
            std::cout << ": " << ev.reason;
          std::cout << "\n";
        },
        caf::after(std::chrono::milliseconds(0)) >> [&] { more = false; });
}

} // namespace

void worker_pool_scenario(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  fetch_env env;
  actorkit::worker_pool_config cfg;
  cfg.workers = 3;
  cfg.task_timeout = 300ms;
  auto pool = actorkit::spawn_worker_pool(
      sys, cfg, [&env](caf::actor_system& s) { return s.spawn(fetch_worker, &env); });
  if (!pool) {
    std::cout << "pool refused: " << sys.render(pool.error()) << "\n";
    return;
  }

  std::cout << "20 user fetches through a pool of 3 workers (100 ms each)\n";
  auto t0 = steady::now();
  auto users = actorkit::execute_all<std::string>(self, *pool, fetches(1, 20));
  auto took = ms_since(t0);
  if (users)
    std::cout << "  fetched " << users->size() << " users, first \"" << users->front()
              << "\", last \"" << users->back() << "\"\n";
  else
    std::cout << "  failed: " << sys.render(users.error()) << "\n";
  std::cout << "  most in flight at once: " << env.max_in_flight << ", time: " << took
            << " ms (ceil(20 / 3) x 100 ms = 700 ms)\n";

  // Changes (replaced workers, timeouts...) reach subscribers as messages.
  caf::scoped_actor listener{sys};
  self->request(*pool, caf::infinite, actorkit::subscribe_atom_v, caf::actor{listener})
      .receive([] {}, [](caf::error&) {});

  std::cout << "\nA worker crashes in the middle of a fetch\n";
  env.verbose = false;
  env.crash_once_on_13 = true;
  auto again = actorkit::execute_all<std::string>(self, *pool, fetches(12, 14));
  if (again)
    std::cout << "  all three answered: " << (*again)[0] << ", " << (*again)[1] << ", "
              << (*again)[2] << "\n";
  auto s = stats_of(self, *pool);
  std::cout << "  re-dispatched: " << s.redelivered
            << ", workers replaced: " << s.replaced << ", workers now: " << s.workers
            << "\n";
  print_events(listener);

  std::cout << "\nA worker gets stuck (task timeout 300 ms)\n";
  env.hang_on_99 = true;
  t0 = steady::now();
  auto stuck = actorkit::execute_all_settled<std::string>(
      self, *pool,
      {caf::make_message(actorkit::ask_atom_v, int64_t{99}),
       caf::make_message(actorkit::ask_atom_v, int64_t{7})});
  std::cout << "  user 99: " << (stuck[0] ? *stuck[0] : sys.render(stuck[0].error()))
            << " after " << ms_since(t0) << " ms\n";
  std::cout << "  user 7: " << (stuck[1] ? *stuck[1] : sys.render(stuck[1].error()))
            << "\n";
  s = stats_of(self, *pool);
  std::cout << "  timed out: " << s.timed_out << ", workers replaced: " << s.replaced
            << ", workers now: " << s.workers << ", running: " << s.running << "\n";
  print_events(listener);
  auto after = actorkit::execute_all<std::string>(self, *pool, fetches(30, 32));
  std::cout << "  the pool keeps working: " << (after ? after->size() : 0)
            << " more users fetched\n";
  self->send(*pool, actorkit::shutdown_atom_v);

  std::cout << "\nA backlog of 12 fetches for 3 workers (queue timeout 250 ms)\n";
  cfg.queue_timeout = 250ms;
  auto bulkhead = actorkit::spawn_worker_pool(
      sys, cfg, [&env](caf::actor_system& s) { return s.spawn(fetch_worker, &env); });
  if (!bulkhead)
    return;
  t0 = steady::now();
  auto backlog =
      actorkit::execute_all_settled<std::string>(self, *bulkhead, fetches(40, 51));
  size_t fetched = 0;
  caf::error refused;
  for (auto& x : backlog)
    if (x)
      ++fetched;
    else
      refused = x.error();
  std::cout << "  fetched " << fetched << " in " << ms_since(t0) << " ms; "
            << backlog.size() - fetched
            << " could not start within 250 ms and were answered without running";
  if (refused)
    std::cout << ": " << sys.render(refused);
  std::cout << "\n";
  s = stats_of(self, *bulkhead);
  std::cout << "  queue timeouts: " << s.queue_timeouts << "\n";
  self->send(*bulkhead, actorkit::shutdown_atom_v);

  std::cout << "\nA worker crashes and its replacements crash as they start "
               "(restart back-off 20 ms, doubling)\n";
  cfg = actorkit::worker_pool_config{};
  cfg.workers = 1;
  cfg.restart_backoff = 20ms;
  cfg.restart_backoff_max = 1s;
  cfg.max_redeliveries = 5; // a worker dying at start dies with its task too
  auto fragile = actorkit::spawn_worker_pool(
      sys, cfg, [&env](caf::actor_system& s) { return s.spawn(fetch_worker, &env); });
  if (!fragile)
    return;
  caf::scoped_actor watcher{sys};
  self->request(*fragile, caf::infinite, actorkit::subscribe_atom_v, caf::actor{watcher})
      .receive([] {}, [](caf::error&) {});
  // One fetch first, so that the first worker is up before the database goes.
  actorkit::execute_all<std::string>(self, *fragile, fetches(12, 12));
  env.crash_once_on_13 = true;
  env.failing_starts = 3;
  t0 = steady::now();
  auto late = actorkit::execute_all<std::string>(self, *fragile, fetches(13, 13));
  std::cout << "  user 13: " << (late ? late->front() : sys.render(late.error()))
            << " after " << ms_since(t0)
            << " ms (20 + 40 + 80 + 160 ms of back-off, then the 100 ms fetch)\n";
  s = stats_of(self, *fragile);
  std::cout << "  workers replaced: " << s.replaced << ", workers now: " << s.workers
            << "\n";
  print_events(watcher);
  self->send(*fragile, actorkit::shutdown_atom_v);
}

#ifndef ACTORKIT_TOUR
void caf_main(caf::actor_system& sys, const actorkit::config& cfg) {
  if (auto err = actorkit::apply_options(cfg)) {
    std::cerr << sys.render(err) << "\n";
    return;
  }
  worker_pool_scenario(sys);
}

CAF_MAIN()
#endif
