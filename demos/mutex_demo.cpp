// Mutex: the lesson's counter race, the actor way.
//
// Each increment reads a shared counter, awaits something (a request to
// another service), then writes what it read plus one. Run concurrently
// without coordination, increments overwrite each other. The same increments
// then run under the mutex actor (with_lock) and as updates of a serialized
// value, and every one counts: 3 out of 3, 1000 out of 1000. Last, a client
// dies while holding the lock: the next waiter gets it at once, and a
// subscriber of the mutex hears of it.
#include <chrono>
#include <iostream>
#include <memory>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/actors/mutex.hpp>
#include <actorkit/actors/serialized.hpp>
#include <actorkit/patterns/with_lock.hpp>
#include <actorkit/tests/support/scripted_service.hpp>

namespace {

using namespace std::chrono_literals;
using actorkit::ask_atom_v;
using actorkit::done_atom_v;
using actorkit::get_atom_v;
using actorkit::put_atom_v;

constexpr caf::timespan timeout = 30s;

// The shared counter: plain get and put, no protection of its own.
caf::behavior counter_impl(caf::event_based_actor*) {
  auto value = std::make_shared<int64_t>(0);
  return {[=](actorkit::get_atom) { return *value; },
          [=](actorkit::put_atom, int64_t x) { *value = x; },
          [=](actorkit::reset_atom) { *value = 0; }};
}

// The lesson's incrementCounter: read, await, write read + 1.
template <class Done>
void increment(caf::event_based_actor* self, caf::actor counter, caf::actor pause,
               Done done) {
  self->request(counter, timeout, get_atom_v).then([=](int64_t current) {
    self->request(pause, timeout, ask_atom_v, int64_t{0}).then([=](int64_t) {
      self->request(counter, timeout, put_atom_v, current + 1).then([=]() {
        done(current + 1);
      });
    });
  });
}

int64_t read(caf::scoped_actor& self, const caf::actor& counter) {
  int64_t result = -1;
  self->request(counter, timeout, get_atom_v)
      .receive([&](int64_t x) { result = x; }, [](caf::error&) {});
  return result;
}

void await_clients(caf::scoped_actor& self, int n) {
  for (int i = 0; i < n; ++i)
    self->receive([](actorkit::done_atom) {});
}

void unsafe_round(caf::actor_system& sys, caf::scoped_actor& self, caf::actor counter,
                  caf::actor pause, int n) {
  self->send(counter, actorkit::reset_atom_v);
  caf::actor reporter = self;
  for (int i = 0; i < n; ++i)
    sys.spawn([=](caf::event_based_actor* client) {
      increment(client, counter, pause, [=](int64_t) {
        client->send(reporter, done_atom_v);
        client->quit();
      });
    });
  await_clients(self, n);
  auto got = read(self, counter);
  std::cout << "  unsafe, " << n << " concurrent increments: counter = " << got << " ("
            << (n - got) << " lost updates)\n";
}

void mutex_round(caf::actor_system& sys, caf::scoped_actor& self,
                 actorkit::mutex_actor mtx, caf::actor counter, caf::actor pause, int n) {
  self->send(counter, actorkit::reset_atom_v);
  caf::actor reporter = self;
  for (int i = 0; i < n; ++i)
    sys.spawn([=](caf::event_based_actor* client) {
      actorkit::with_lock<int64_t>(
          client, mtx,
          [=](const actorkit::lease&, auto finish) {
            increment(client, counter, pause, [=](int64_t x) { finish(x); });
          },
          [=](caf::expected<int64_t>) {
            client->send(reporter, done_atom_v);
            client->quit();
          });
    });
  await_clients(self, n);
  std::cout << "  with_lock, " << n
            << " concurrent increments: counter = " << read(self, counter) << "\n";
}

void serialized_round(caf::actor_system& sys, caf::scoped_actor& self, caf::actor pause,
                      int n) {
  auto value = actorkit::spawn_serialized<int64_t>(sys, {});
  if (!value)
    return;
  actorkit::update_op<int64_t> op{[pause](caf::event_based_actor* owner, const int64_t& v,
                                          actorkit::commit_fn<int64_t> commit) {
    owner->request(pause, timeout, ask_atom_v, int64_t{0})
        .then([=](int64_t) { commit(v + 1); }, [=](caf::error& e) { commit(e); });
  }};
  caf::actor reporter = self;
  auto hdl = *value;
  for (int i = 0; i < n; ++i)
    sys.spawn([=](caf::event_based_actor* client) {
      client->request(hdl, timeout, actorkit::update_atom_v, op).then([=](int64_t) {
        client->send(reporter, done_atom_v);
        client->quit();
      });
    });
  await_clients(self, n);
  self->request(hdl, timeout, get_atom_v)
      .receive(
          [&](int64_t x) {
            std::cout << "  serialized<int64_t>, " << n
                      << " concurrent updates: value = " << x << "\n";
          },
          [](caf::error&) {});
  self->send_exit(hdl, caf::exit_reason::user_shutdown);
}

void holder_dies(caf::actor_system& sys, caf::scoped_actor& self,
                 actorkit::mutex_actor mtx) {
  std::cout << "\nA holder dies while holding the lock:\n";
  caf::actor reporter = self;
  // The doomed client takes the lock and reports; it never releases. The
  // wait is the acquire's only timeout: the mutex answers when it is over.
  auto doomed = sys.spawn([=](caf::event_based_actor* client) -> caf::behavior {
    client
        ->request(mtx, caf::infinite, actorkit::acquire_atom_v, timeout,
                  actorkit::no_limit)
        .then([=](actorkit::lease l) { client->send(reporter, done_atom_v, l.token); });
    return {[](actorkit::run_atom) {}};
  });
  self->receive([](actorkit::done_atom, uint64_t token) {
    std::cout << "  client A holds lease " << token << " and never releases it\n";
  });
  sys.spawn([=](caf::event_based_actor* client) {
    client
        ->request(mtx, caf::infinite, actorkit::acquire_atom_v, timeout,
                  actorkit::no_limit)
        .then([=](actorkit::lease l) {
          client->send(reporter, done_atom_v, l.token);
          client->send(mtx, actorkit::release_atom_v, l);
          client->quit();
        });
  });
  // Wait until B is queued behind A, then crash A.
  for (uint64_t queued = 0; queued == 0;)
    self->request(mtx, timeout, actorkit::stats_atom_v)
        .receive([&](const actorkit::mutex_stats& s) { queued = s.queued; },
                 [&](caf::error&) { queued = 1; });
  // Subscribed, this thread hears of the death as a mutex_event too.
  self->request(mtx, timeout, actorkit::subscribe_atom_v, reporter)
      .receive([] {}, [](caf::error&) {});
  std::cout << "  client B waits; client A crashes\n";
  self->send_exit(doomed, caf::exit_reason::kill);
  self->receive([](actorkit::done_atom, uint64_t token) {
    std::cout << "  client B proceeds with lease " << token << "\n";
  });
  self->receive([](const actorkit::mutex_event& ev) {
    std::cout << "  subscriber hears: " << to_string(ev.kind) << ", lease " << ev.token
              << " ended (" << ev.reason << "), lease " << ev.next_token
              << " granted in its place\n";
  });
  self->request(mtx, timeout, actorkit::unsubscribe_atom_v, reporter)
      .receive([] {}, [](caf::error&) {});
  self->request(mtx, timeout, actorkit::stats_atom_v)
      .receive(
          [](const actorkit::mutex_stats& s) {
            std::cout << "  mutex stats: grants " << s.grants << ", releases by death "
                      << s.releases_by_death << "\n";
          },
          [](caf::error&) {});
}

} // namespace

void mutex_scenario(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  auto counter = sys.spawn(counter_impl);
  // "await something": a service answering after 10 ms, and one answering at
  // once (still an asynchronous hop) for the 1000-client rounds.
  auto slow = actorkit::testing::spawn_echo_service(sys, 10ms);
  auto quick = actorkit::testing::spawn_echo_service(sys, caf::timespan::zero());
  auto mtx = actorkit::spawn_mutex(sys, {});
  if (!mtx) {
    std::cout << sys.render(mtx.error()) << "\n";
    return;
  }
  std::cout << "Three increments of a shared counter, each awaiting 10 ms between read "
               "and write:\n";
  unsafe_round(sys, self, counter, slow.actor, 3);
  mutex_round(sys, self, *mtx, counter, slow.actor, 3);
  serialized_round(sys, self, slow.actor, 3);
  std::cout << "\nOne thousand concurrent increments:\n";
  unsafe_round(sys, self, counter, quick.actor, 1000);
  mutex_round(sys, self, *mtx, counter, quick.actor, 1000);
  serialized_round(sys, self, quick.actor, 1000);
  holder_dies(sys, self, *mtx);
  for (auto& hdl : {counter, slow.actor, quick.actor, caf::actor_cast<caf::actor>(*mtx)})
    self->send_exit(hdl, caf::exit_reason::user_shutdown);
}

#ifndef ACTORKIT_TOUR
void caf_main(caf::actor_system& sys, const actorkit::config& cfg) {
  if (auto err = actorkit::apply_options(cfg)) {
    std::cerr << sys.render(err) << "\n";
    return;
  }
  mutex_scenario(sys);
}

CAF_MAIN()
#endif
