// Worker pool across processes: workers in a second process, reached through
// CAF's network layer (the middleman), and what happens when that process is
// killed in the middle of its tasks.
//
// The demo starts a copy of itself as a worker node (--worker-node), which
// publishes a spawner of workers on 127.0.0.1. The pool in this process runs
// its tasks on two workers of that node; its factory makes local workers as
// replacements. The node is killed (SIGKILL) while both of its workers hold a
// task. CAF answers no request in flight to a process that is gone; the pool
// monitors its workers, so their tasks run again on local replacements and
// every caller gets its answer.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/actors/worker_pool.hpp>

extern char** environ;

namespace {

using namespace std::chrono_literals;
using actorkit::ask_atom;
using actorkit::done_atom;
using actorkit::put_atom;

int64_t my_pid() {
  return static_cast<int64_t>(getpid());
}

/// Squares x in 300 ms, one task at a time. Tells `watcher` when a task
/// starts, with the number of the process it runs in.
caf::behavior square_worker(caf::event_based_actor* self, caf::actor watcher) {
  return {
      [=](ask_atom, int64_t x) -> caf::result<std::string> {
        self->send(watcher, actorkit::put_atom_v, x, my_pid());
        auto rp = self->make_response_promise<std::string>();
        self->delayed_send(self, 300ms, actorkit::done_atom_v);
        self->become(caf::keep_behavior, [=](done_atom) mutable {
          rp.deliver(std::to_string(x * x) + " (computed by process " +
                     std::to_string(my_pid()) + ")");
          self->unbecome();
        });
        return rp;
      },
  };
}

// -- the worker node ----------------------------------------------------------

/// (run_atom, caf::actor watcher) -> a new square_worker, linked to the
/// spawner so that it goes when the spawner does.
caf::behavior spawner(caf::event_based_actor* self) {
  return {[=](actorkit::run_atom, caf::actor watcher) {
    return self->spawn<caf::linked>(square_worker, watcher);
  }};
}

/// Publishes a spawner, prints its port and runs until stdin closes.
int run_node() {
  prctl(PR_SET_PDEATHSIG, SIGKILL); // gone with the demo, whatever happens
  caf::actor_system_config cfg;
  actorkit::configure(cfg);
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  auto hdl = sys.spawn(spawner);
  auto port = sys.middleman().publish(hdl, 0, "127.0.0.1");
  if (!port) {
    std::cerr << "worker node: " << sys.render(port.error()) << "\n";
    caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
    return 1;
  }
  std::cout << *port << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
    // runs until the demo closes our input
  }
  caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
  return 0;
}

// -- the demo -----------------------------------------------------------------

/// The worker node: this program started again with --worker-node.
struct node {
  pid_t pid = -1;
  int input = -1;
  FILE* output = nullptr;
  uint16_t port = 0;
};

bool start_node(node& n) {
  int in[2];
  int out[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
    return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  std::string path = "/proc/self/exe";
  std::string flag = "--worker-node";
  char* argv[] = {path.data(), flag.data(), nullptr};
  auto rc = posix_spawn(&n.pid, path.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    n.pid = -1;
  close(in[0]);
  close(out[1]);
  n.input = in[1];
  n.output = fdopen(out[0], "r");
  char line[32] = {};
  bool ok = rc == 0 && std::fgets(line, sizeof(line), n.output) != nullptr;
  n.port = ok ? static_cast<uint16_t>(std::atoi(line)) : 0;
  return n.port != 0;
}

void kill_node(node& n) {
  if (n.pid > 0) {
    kill(n.pid, SIGKILL);
    waitpid(n.pid, nullptr, 0);
    n.pid = -1;
  }
  if (n.input >= 0)
    close(n.input);
  if (n.output != nullptr)
    std::fclose(n.output);
  n.input = -1;
  n.output = nullptr;
}

/// Sends each task to `pool` at once and reports each answer to `to` as
/// (done_atom, x, text).
void ask_all(caf::actor_system& sys, caf::actor pool, std::vector<int64_t> xs,
             caf::actor to) {
  sys.spawn([=](caf::event_based_actor* self) {
    for (auto x : xs)
      self->request(pool, caf::infinite, actorkit::ask_atom_v, x)
          .then(
              [=](std::string& text) { self->send(to, actorkit::done_atom_v, x, text); },
              [=](caf::error& err) {
                self->send(to, actorkit::done_atom_v, x,
                           "error: " + self->home_system().render(err));
              });
  });
}

/// Prints task starts and answers as they come, with the time since `t0`,
/// until `answers` arrived; calls `on_start` with the number of tasks started
/// so far. (An answer goes through the caller, so the next task on the same
/// worker may show up a moment before it.)
template <class OnStart>
size_t watch(caf::scoped_actor& self, std::chrono::steady_clock::time_point t0,
             size_t answers, OnStart on_start) {
  auto stamp = [t0] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - t0);
    auto text = std::to_string(ms.count());
    return "  [" + std::string(text.size() < 4 ? 4 - text.size() : 0, ' ') + text +
           " ms] ";
  };
  size_t answered = 0;
  size_t started = 0;
  size_t errors = 0;
  self->receive_while([&] { return answered < answers; })(
      [&](put_atom, int64_t x, int64_t pid) {
        std::cout << stamp() << "task " << x << " starts in process " << pid << "\n";
        on_start(++started);
      },
      [&](done_atom, int64_t x, const std::string& text) {
        ++answered;
        if (text.rfind("error:", 0) == 0)
          ++errors;
        std::cout << stamp() << "task " << x << " = " << text << "\n";
      },
      caf::after(10s) >>
          [&] {
            std::cout << stamp() << "nothing for 10 s: " << (answers - answered)
                      << " answers missing\n";
            errors += answers - answered;
            answered = answers;
          });
  return errors;
}

int run_demo(caf::actor_system& sys) {
  node n;
  if (!start_node(n)) {
    std::cout << "could not start the worker node\n";
    kill_node(n);
    return 1;
  }
  std::cout << "this process: " << my_pid() << "; worker node: process " << n.pid
            << ", port " << n.port << " on 127.0.0.1\n";
  caf::scoped_actor self{sys};
  auto me = caf::actor_cast<caf::actor>(self.ptr());
  auto spawner = sys.middleman().remote_actor("127.0.0.1", n.port);
  if (!spawner) {
    std::cout << "could not reach the worker node: " << sys.render(spawner.error())
              << "\n";
    kill_node(n);
    return 1;
  }
  std::vector<caf::actor> remote;
  for (int i = 0; i < 2; ++i)
    self->request(*spawner, 10s, actorkit::run_atom_v, me)
        .receive([&](caf::actor& w) { remote.push_back(w); },
                 [&](caf::error& err) { std::cout << sys.render(err) << "\n"; });
  if (remote.size() != 2) {
    kill_node(n);
    return 1;
  }
  actorkit::worker_pool_config cfg;
  auto pool = actorkit::spawn_worker_pool(sys, cfg, remote, [me](caf::actor_system& s) {
    return s.spawn(square_worker, me);
  });
  if (!pool) {
    std::cout << "pool refused: " << sys.render(pool.error()) << "\n";
    kill_node(n);
    return 1;
  }
  std::cout << "pool: 2 workers in process " << n.pid
            << ", replacements made in this process\n\n";

  std::cout << "tasks 1 and 2, with the worker node up:\n";
  auto t0 = std::chrono::steady_clock::now();
  ask_all(sys, *pool, {1, 2}, me);
  auto errors = watch(self, t0, 2, [](size_t) {});

  std::cout << "\ntasks 3 to 6; the worker node is killed once it runs two of them:\n";
  t0 = std::chrono::steady_clock::now();
  ask_all(sys, *pool, {3, 4, 5, 6}, me);
  errors += watch(self, t0, 4, [&](size_t started) {
    if (started == 2) {
      std::cout << "  -------- kill -9 " << n.pid << " (the worker node)\n";
      kill_node(n);
    }
  });

  self->request(*pool, 10s, actorkit::stats_atom_v)
      .receive(
          [&](actorkit::worker_pool_stats& s) {
            std::cout << "\nstats: completed " << s.completed << ", redelivered "
                      << s.redelivered << ", replaced " << s.replaced << ", workers "
                      << s.workers << "\n";
          },
          [&](caf::error& err) { std::cout << sys.render(err) << "\n"; });

  // Without the pool: a request to a worker of the killed node is never
  // answered; only the caller's own timeout ends it.
  self->request(remote[0], 1s, actorkit::ask_atom_v, int64_t{7})
      .receive(
          [&](std::string& text) { std::cout << "direct request: " << text << "\n"; },
          [&](caf::error& err) {
            std::cout << "a direct request to a worker of the killed node: "
                      << sys.render(err) << " after its own 1 s timeout\n";
          });
  caf::anon_send_exit(*pool, caf::exit_reason::user_shutdown);
  // Every task must have its value: the pool lost none to the killed node.
  return errors == 0 ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string{argv[1]} == "--worker-node")
    return run_node();
  actorkit::config cfg;
  cfg.load<caf::io::middleman>();
  if (auto err = cfg.parse(argc, argv)) {
    std::cerr << caf::to_string(err) << "\n";
    return 1;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  caf::actor_system sys{cfg};
  return run_demo(sys);
}
