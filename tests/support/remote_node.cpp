// A node in a process of its own for the cross-process tests
// (tests/fixtures/remote.hpp: worker_pool_remote_test, mutex_remote_test,
// latest_wins_remote_test).
// It publishes one actor on 127.0.0.1 at a port the system picks, prints
// that port on a line of its own, and runs until its standard input closes
// (or it is killed).
//
//   actorkit_remote_node workers   publishes a spawner of workers:
//       (run_atom, std::string kind, caf::actor watcher) -> caf::actor
//     kind "echo": (ask_atom, int64_t x) -> x
//     kind "park": (ask_atom, int64_t x) sends (put_atom, x) to `watcher`
//                  and never answers
//     kind "mutex": a mutex (default config)
//       (acquire_atom, caf::actor mutex) -> uint64_t
//     a new actor acquires `mutex` (no wait or hold limit), answers the
//     lease's token once granted, and holds the lease for good
//   actorkit_remote_node pool      publishes a worker pool of two echo
//                                  workers (default config otherwise)
#include <sys/prctl.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/actors/mutex.hpp>
#include <actorkit/actors/worker_pool.hpp>
#include <actorkit/patterns/call.hpp>

namespace {

using namespace actorkit;

caf::behavior echo() {
  return {[](ask_atom, int64_t x) { return x; }};
}

struct park_state {
  std::vector<caf::response_promise> parked;
};

caf::behavior park(caf::stateful_actor<park_state>* self, caf::actor watcher) {
  return {[=](ask_atom, int64_t x) {
    self->state.parked.push_back(self->make_response_promise());
    if (watcher)
      self->send(watcher, put_atom_v, x);
  }};
}

caf::behavior holder(caf::event_based_actor* self) {
  return {[=](acquire_atom, caf::actor mutex) {
    auto rp = self->make_response_promise<uint64_t>();
    self->request(mutex, caf::infinite, acquire_atom_v, no_limit, no_limit)
        .then([rp](lease& l) mutable { rp.deliver(l.token); },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  }};
}

// What it spawns is linked to it, so that it goes when the spawner does.
caf::behavior spawner(caf::event_based_actor* self) {
  return {
      [=](run_atom, const std::string& kind,
          caf::actor watcher) -> caf::result<caf::actor> {
        if (kind == "echo")
          return self->spawn<caf::linked>(echo);
        if (kind == "park")
          return self->spawn<caf::linked>(park, watcher);
        if (kind == "mutex") {
          auto m = spawn_mutex(self->system());
          if (!m)
            return m.error();
          self->link_to(*m);
          return caf::actor_cast<caf::actor>(*m);
        }
        return caf::make_error(caf::sec::invalid_argument,
                               "unknown worker kind: " + kind);
      },
      [=](acquire_atom a, caf::actor mutex) {
        return self->delegate(self->spawn<caf::linked>(holder), a, std::move(mutex));
      },
  };
}

} // namespace

int main(int argc, char** argv) {
  // Gone with the test process, whatever happens to it.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode != "workers" && mode != "pool") {
    std::cerr << "usage: actorkit_remote_node workers|pool\n";
    return 2;
  }
  caf::actor_system_config cfg;
  actorkit::configure(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  caf::actor published;
  if (mode == "workers") {
    published = sys.spawn(spawner);
  } else {
    worker_pool_config pcfg;
    pcfg.workers = 2;
    auto pool = spawn_worker_pool(sys, pcfg, make_worker_factory(echo));
    if (!pool) {
      std::cerr << sys.render(pool.error()) << '\n';
      return 1;
    }
    published = *pool;
  }
  auto port = sys.middleman().publish(published, 0, "127.0.0.1");
  if (!port) {
    std::cerr << sys.render(port.error()) << '\n';
    caf::anon_send_exit(published, caf::exit_reason::user_shutdown);
    return 1;
  }
  std::cout << *port << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    // runs until the test closes our input
  }
  caf::anon_send_exit(published, caf::exit_reason::user_shutdown);
  return 0;
}
