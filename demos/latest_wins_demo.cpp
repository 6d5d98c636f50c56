// Latest-wins: search-as-you-type.
//
// A user types 'a', 'ab', 'abc' quickly against a search service that takes
// 300 ms per query. Each keystroke goes through a latest-wins gate under the
// key "search box". Only 'abc' is displayed; 'a' and 'ab' are reported
// superseded the moment the next keystroke arrives, instead of after their
// 300 ms. The same burst then runs with the restart policy, where each key
// has its own search worker and stale searches are stopped, not just
// ignored; a subscriber of the gate hears of each restart.
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/actors/latest_wins.hpp>
#include <actorkit/tests/support/scripted_service.hpp>

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

constexpr auto search_latency = 300ms;
constexpr auto typing_gap = 60ms;

long long ms_since(steady::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - t0)
      .count();
}

caf::actor spawn_search(caf::actor_system& sys) {
  actorkit::testing::scripted_service_config cfg;
  cfg.otherwise = actorkit::testing::reaction::reply_after(search_latency);
  cfg.string_fn = [](const std::string& q) { return "3 results for '" + q + "'"; };
  return actorkit::testing::spawn_scripted_service(sys, std::move(cfg)).actor;
}

void type_burst(caf::actor_system& sys, caf::scoped_actor& self,
                actorkit::latest_wins_actor<std::string> gate) {
  const std::string keystrokes[] = {"a", "ab", "abc"};
  caf::actor screen = self;
  auto t0 = steady::now();
  for (auto& q : keystrokes) {
    std::cout << "  [" << ms_since(t0) << " ms] typed '" << q << "'\n";
    sys.spawn([=](caf::event_based_actor* client) {
      client
          ->request(gate, 10s, actorkit::submit_atom_v, std::string{"search box"},
                    caf::make_message(actorkit::ask_atom_v, q))
          .then(
              [=](std::string& hits) {
                client->send(screen, q, ms_since(t0), true, hits);
                client->quit();
              },
              [=](caf::error& err) {
                client->send(screen, q, ms_since(t0), false,
                             client->system().render(err));
                client->quit();
              });
    });
    if (&q != &keystrokes[2])
      std::this_thread::sleep_for(typing_gap);
  }
  long long saved = 0;
  for (int i = 0; i < 3; ++i)
    self->receive([&](const std::string& q, long long at, bool ok,
                      const std::string& what) {
      if (ok) {
        std::cout << "  [" << at << " ms] display '" << q << "': " << what << "\n";
      } else {
        std::cout << "  [" << at << " ms] '" << q << "' superseded (" << what << ")\n";
        // Its caller would otherwise have waited for the whole search.
        auto typed_at = (q == "a" ? 0 : typing_gap.count());
        saved += search_latency.count() - (at - typed_at);
      }
    });
  self->request(gate, 10s, actorkit::stats_atom_v)
      .receive(
          [&](const actorkit::latest_wins_stats& s) {
            std::cout << "  superseded: " << s.superseded
                      << ", stale results discarded: " << s.stale_discarded
                      << ", workers restarted: " << s.restarts
                      << "\n  time saved for superseded callers: about " << saved
                      << " ms\n";
          },
          [](caf::error&) {});
}

} // namespace

void latest_wins_scenario(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  auto search = spawn_search(sys);
  actorkit::latest_wins_config cfg;
  cfg.worker = search;
  auto gate = actorkit::spawn_latest_wins<std::string>(sys, cfg);
  if (!gate) {
    std::cout << sys.render(gate.error()) << "\n";
    return;
  }
  std::cout << "Discard policy: stale searches finish at the service, their results are "
               "dropped\n";
  type_burst(sys, self, *gate);
  std::cout << "\nRestart policy: a stale search's worker is stopped and replaced\n";
  actorkit::latest_wins_config rcfg;
  rcfg.worker_factory = spawn_search;
  rcfg.policy = actorkit::stale_policy::restart;
  auto restarting = actorkit::spawn_latest_wins<std::string>(sys, rcfg);
  if (restarting) {
    // Subscribed, this thread also hears of each restart as an event.
    self->request(*restarting, 10s, actorkit::subscribe_atom_v, caf::actor{self})
        .receive([] {}, [](caf::error&) {});
    type_burst(sys, self, *restarting);
    for (bool more = true; more;)
      self->receive(
          [](const actorkit::latest_wins_event& ev) {
            std::cout << "  subscriber heard: " << to_string(ev.kind) << " for '"
                      << ev.key << "' (stale version " << ev.version << ")\n";
          },
          caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
  }
  self->send_exit(*gate, caf::exit_reason::user_shutdown);
  if (restarting)
    self->send_exit(*restarting, caf::exit_reason::user_shutdown);
  self->send_exit(search, caf::exit_reason::user_shutdown);
}

#ifndef ACTORKIT_TOUR
void caf_main(caf::actor_system& sys, const actorkit::config& cfg) {
  if (auto err = actorkit::apply_options(cfg)) {
    std::cerr << sys.render(err) << "\n";
    return;
  }
  latest_wins_scenario(sys);
}

CAF_MAIN()
#endif
