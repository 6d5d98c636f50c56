// Dashboard: the lesson's loadUserDashboard, the actor way.
//
// Four services (user, posts, comments, stats) answer after their own
// latencies. The dashboard loads them with all() (fail fast, in parallel),
// then with all_settled() while the comments service is down, showing which
// parts loaded. Then ten users are processed with map_limit(3), never more
// than three requests in flight, and once more strictly in sequence, with
// both times printed.
#include <chrono>
#include <iostream>
#include <string>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/patterns/map_limit.hpp>
#include <actorkit/patterns/parallel.hpp>
#include <actorkit/patterns/sequential.hpp>
#include <actorkit/tests/support/scripted_service.hpp>

namespace {

using namespace std::chrono_literals;
using actorkit::testing::reaction;
using actorkit::testing::scripted_service;
using actorkit::testing::scripted_service_config;

using steady = std::chrono::steady_clock;

long long ms_since(steady::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0)
      .count();
}

scripted_service spawn_part(caf::actor_system& sys, const std::string& part,
                            caf::timespan latency, bool down = false) {
  scripted_service_config cfg;
  cfg.otherwise =
      down
          ? reaction::fail_with(caf::make_error(caf::sec::request_receiver_down), latency)
          : reaction::reply_after(latency);
  cfg.string_fn = [part](const std::string& user) { return part + " of user " + user; };
  return actorkit::testing::spawn_scripted_service(sys, std::move(cfg));
}

actorkit::call<std::string> fetch(const scripted_service& svc, const std::string& user) {
  return actorkit::ask<std::string>(svc.actor, actorkit::ask_atom_v, user);
}

void load_dashboard(caf::actor_system& sys, caf::scoped_actor& self) {
  const char* names[] = {"user", "posts", "comments", "stats"};
  scripted_service parts[] = {
      spawn_part(sys, "profile", 50ms), spawn_part(sys, "posts", 80ms),
      spawn_part(sys, "comments", 60ms), spawn_part(sys, "stats", 40ms)};
  std::vector<actorkit::call<std::string>> calls;
  for (auto& p : parts)
    calls.push_back(fetch(p, "123"));
  std::cout << "all(): four services, 50 + 80 + 60 + 40 ms if run one by one\n";
  auto t0 = steady::now();
  auto dashboard = actorkit::all(self, calls);
  if (dashboard) {
    for (size_t i = 0; i < 4; ++i)
      std::cout << "  " << names[i] << ": " << (*dashboard)[i] << "\n";
    std::cout << "  loaded in " << ms_since(t0)
              << " ms (the slowest service, not the sum)\n";
  } else {
    std::cout << "  dashboard failed: " << to_string(dashboard.error()) << "\n";
  }
  for (auto& p : parts)
    self->send_exit(p.actor, caf::exit_reason::user_shutdown);

  std::cout << "\nall_settled(): the comments service is down\n";
  scripted_service flaky[] = {
      spawn_part(sys, "profile", 50ms), spawn_part(sys, "posts", 80ms),
      spawn_part(sys, "comments", 20ms, true), spawn_part(sys, "stats", 40ms)};
  calls.clear();
  for (auto& p : flaky)
    calls.push_back(fetch(p, "123"));
  auto strict = actorkit::all(self, calls);
  std::cout << "  all() would fail fast: "
            << (strict ? std::string{"loaded"} : sys.render(strict.error())) << "\n";
  auto settled = actorkit::all_settled(self, calls);
  for (size_t i = 0; i < 4; ++i) {
    if (settled[i])
      std::cout << "  " << names[i] << ": loaded (" << *settled[i] << ")\n";
    else
      std::cout << "  " << names[i] << ": missing (" << sys.render(settled[i].error())
                << ")\n";
  }
  for (auto& p : flaky)
    self->send_exit(p.actor, caf::exit_reason::user_shutdown);
}

void process_users(caf::actor_system& sys, caf::scoped_actor& self) {
  // The user service reports each request as it starts, with how many of its
  // requests are in flight at that moment.
  scripted_service_config cfg;
  cfg.otherwise = reaction::reply_after(100ms);
  cfg.int_fn = [](int64_t id) { return id * 100; };
  cfg.on_call = [](const actorkit::testing::service_counters& c) {
    std::cout << "  request " << c.calls << " started, in flight: " << c.in_flight
              << "\n";
  };
  auto users = actorkit::testing::spawn_scripted_service(sys, std::move(cfg));
  std::vector<int64_t> ids{1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  auto fetch_user = [users](int64_t id) {
    return actorkit::ask<int64_t>(users.actor, actorkit::ask_atom_v, id);
  };

  std::cout << "\nmap_limit(3): ten users, at most three requests in flight\n";
  auto t0 = steady::now();
  auto limited = actorkit::map_limit(self, ids, 3, fetch_user);
  auto limited_ms = ms_since(t0);
  std::cout << "  results in input order:";
  if (limited)
    for (auto x : *limited)
      std::cout << " " << x;
  std::cout << "\n  most in flight at once: " << users.counters->max_in_flight
            << ", time: " << limited_ms << " ms (ceil(10 / 3) x 100 ms = 400 ms)\n";

  std::cout << "\nsequence(): the same ten users one after another\n";
  std::vector<actorkit::call<int64_t>> calls;
  for (auto id : ids)
    calls.push_back(fetch_user(id));
  t0 = steady::now();
  auto sequential = actorkit::sequence(self, calls);
  auto sequential_ms = ms_since(t0);
  std::cout << "  " << (sequential ? "all loaded" : sys.render(sequential.error()))
            << ", time: " << sequential_ms << " ms (10 x 100 ms)\n";
  if (limited_ms > 0)
    std::cout << "  map_limit(3) was " << static_cast<double>(sequential_ms) / limited_ms
              << "x faster\n";
  self->send_exit(users.actor, caf::exit_reason::user_shutdown);
}

} // namespace

void dashboard_scenario(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  load_dashboard(sys, self);
  process_users(sys, self);
}

#ifndef ACTORKIT_TOUR
void caf_main(caf::actor_system& sys, const actorkit::config& cfg) {
  if (auto err = actorkit::apply_options(cfg)) {
    std::cerr << sys.render(err) << "\n";
    return;
  }
  dashboard_scenario(sys);
}

CAF_MAIN()
#endif
