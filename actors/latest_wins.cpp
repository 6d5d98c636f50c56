#include <actorkit/actors/latest_wins.hpp>

#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/behavior.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>

#include <actorkit/actors/detail/subscribers.hpp>
#include <actorkit/actors/error.hpp>
#include <actorkit/actors/log.hpp>

namespace actorkit {

namespace {

struct job {
  uint64_t version;
  caf::message request;
};

struct key_state {
  /// The newest version accepted for this key.
  uint64_t newest = 0;
  /// The newest job, waiting for a worker slot.
  std::optional<job> queued;
  /// The live (newest) job at the worker, if any, and its request.
  std::optional<job> running;
  /// Requests of this key at the worker, stale ones included.
  size_t flights = 0;
  /// This key's own worker (factory mode).
  caf::actor worker;
};

struct flight {
  std::string key;
  bool holds_slot;
  /// The worker the request went to; its death fails the request at once.
  caf::actor_addr worker;
};

// Promises of every caller not yet answered, by version. Shared with the
// exit path, which answers them after the state is gone.
using promise_map = std::unordered_map<uint64_t, caf::response_promise>;
using worker_map = std::unordered_map<std::string, caf::actor>;

struct gate_state {
  static inline const char* name = "actorkit.latest_wins";
  latest_wins_config cfg;
  detail::latest_wins_sender sender;
  std::shared_ptr<promise_map> pending;
  std::shared_ptr<worker_map> workers;
  std::unordered_map<std::string, key_state> keys;
  std::unordered_map<uint64_t, flight> flights;
  std::deque<std::string> ready;
  uint64_t next_version = 0;
  size_t in_flight = 0;
  latest_wins_stats stats;
  /// The shared worker's exit reason, once it is gone: a request to a dead
  /// remote actor is dropped without a bounce, so none is sent any more.
  caf::error shared_worker_gone;
  detail::subscriber_list subscribers;
  std::shared_ptr<spdlog::logger> log;
};

using self_ptr = caf::stateful_actor<gate_state>*;

void answer(self_ptr self, uint64_t version, caf::message msg) {
  auto& p = *self->state.pending;
  auto i = p.find(version);
  if (i == p.end())
    return;
  auto rp = std::move(i->second);
  p.erase(i);
  rp.deliver(std::move(msg));
}

void answer(self_ptr self, uint64_t version, caf::error err) {
  answer(self, version, caf::make_message(std::move(err)));
}

void publish(self_ptr self, latest_wins_event ev) {
  auto& subs = self->state.subscribers;
  if (subs.empty())
    return;
  auto msg = caf::make_message(std::move(ev));
  subs.for_each([&](const caf::actor& who) { self->send(who, msg); });
}

void forget_if_idle(self_ptr self, const std::string& key) {
  auto& st = self->state;
  auto i = st.keys.find(key);
  if (i == st.keys.end())
    return;
  auto& ks = i->second;
  if (ks.queued || ks.running || ks.flights > 0)
    return;
  if (ks.worker) {
    self->demonitor(ks.worker);
    self->send_exit(ks.worker, caf::exit_reason::user_shutdown);
    st.workers->erase(key);
  }
  st.keys.erase(i);
}

// The worker for `key`, made by the factory if the key has none; a factory
// that throws or returns no actor gives an error instead.
caf::expected<caf::actor> worker_for(self_ptr self, const std::string& key,
                                     key_state& ks) {
  auto& st = self->state;
  if (!st.cfg.worker_factory) {
    if (st.shared_worker_gone)
      return st.shared_worker_gone;
    return st.cfg.worker;
  }
  if (!ks.worker) {
    caf::actor w;
    try {
      w = st.cfg.worker_factory(self->system());
    } catch (const std::exception& ex) {
      return caf::make_error(caf::sec::runtime_error,
                             std::string{"latest_wins: worker_factory threw: "} +
                                 ex.what());
    } catch (...) {
      return caf::make_error(caf::sec::runtime_error,
                             "latest_wins: worker_factory threw");
    }
    if (!w)
      return caf::make_error(caf::sec::runtime_error,
                             "latest_wins: worker_factory returned no actor");
    ks.worker = std::move(w);
    self->monitor(ks.worker);
    (*st.workers)[key] = ks.worker;
  }
  return ks.worker;
}

void pump(self_ptr self);

void on_reply(self_ptr self, uint64_t version, caf::message msg, bool failed) {
  auto& st = self->state;
  auto f = st.flights.find(version);
  if (f == st.flights.end())
    return;
  auto key = std::move(f->second.key);
  if (f->second.holds_slot)
    --st.in_flight;
  st.flights.erase(f);
  auto k = st.keys.find(key);
  if (k != st.keys.end()) {
    --k->second.flights;
    if (k->second.running && k->second.running->version == version)
      k->second.running.reset();
  }
  if (st.pending->count(version) > 0) {
    ++st.stats.completed;
    answer(self, version, std::move(msg));
  } else if (!failed) {
    ++st.stats.stale_discarded;
    st.log->debug("discarded the stale answer of version {} (key '{}')", version, key);
  }
  forget_if_idle(self, key);
  pump(self);
}

// Sends `j` to the key's worker; false if there is no worker to send it to
// (its caller is answered with the factory's error).
bool dispatch(self_ptr self, const std::string& key, key_state& ks, job j) {
  auto& st = self->state;
  auto worker = worker_for(self, key, ks);
  if (!worker) {
    if (st.cfg.worker_factory)
      ++st.stats.factory_failures;
    st.log->warn("no worker for key '{}': {}", key, to_string(worker.error()));
    answer(self, j.version, std::move(worker.error()));
    return false;
  }
  ++st.in_flight;
  ++ks.flights;
  st.flights.emplace(j.version, flight{key, true, worker->address()});
  auto version = j.version;
  st.sender(self, *worker, st.cfg.worker_timeout, j.request,
            [self, version](caf::message msg, bool failed) {
              on_reply(self, version, std::move(msg), failed);
            });
  ks.running = std::move(j);
  return true;
}

void pump(self_ptr self) {
  auto& st = self->state;
  while (st.in_flight < st.cfg.max_in_flight && !st.ready.empty()) {
    auto key = std::move(st.ready.front());
    st.ready.pop_front();
    auto k = st.keys.find(key);
    if (k == st.keys.end() || !k->second.queued)
      continue;
    auto j = std::move(*k->second.queued);
    k->second.queued.reset();
    if (!dispatch(self, key, k->second, std::move(j)))
      forget_if_idle(self, key);
  }
}

// The live job at the worker became stale: apply the policy.
void retire_running(self_ptr self, const std::string& key, key_state& ks) {
  auto& st = self->state;
  auto old = std::move(*ks.running);
  ks.running.reset();
  auto f = st.flights.find(old.version);
  switch (st.cfg.policy) {
  case stale_policy::discard:
    return;
  case stale_policy::cancel: {
    // A cancel_message that throws sends no cancel: the stale work is then
    // only discarded (it keeps its slot until it ends), and the gate goes on
    // for every key.
    caf::message msg;
    try {
      msg = st.cfg.cancel_message ? st.cfg.cancel_message(key, old.request)
                                  : caf::make_message(cancel_atom_v, key);
    } catch (const std::exception& ex) {
      st.log->warn("cancel_message threw for key '{}': {}; no cancel sent", key,
                   ex.what());
      return;
    } catch (...) {
      st.log->warn("cancel_message threw for key '{}'; no cancel sent", key);
      return;
    }
    // The work at the worker has a worker: the shared one or the key's own.
    auto& w = st.cfg.worker_factory ? ks.worker : st.cfg.worker;
    if (w) {
      self->send(w, std::move(msg));
      ++st.stats.cancels_sent;
    }
    break;
  }
  case stale_policy::restart:
    if (ks.worker) {
      self->demonitor(ks.worker);
      self->send_exit(ks.worker, caf::exit_reason::kill);
      st.workers->erase(key);
      ks.worker = nullptr;
      ++st.stats.restarts;
      st.log->info("restarted the worker of key '{}' to stop stale version {}", key,
                   old.version);
      latest_wins_event ev;
      ev.kind = gate_event::worker_restarted;
      ev.key = key;
      ev.version = old.version;
      publish(self, std::move(ev));
    }
    break;
  }
  // Cancelled or killed work is forgotten at once: its slot is free again,
  // and whatever answer still comes is ignored.
  if (f != st.flights.end()) {
    if (f->second.holds_slot)
      --st.in_flight;
    st.flights.erase(f);
    --ks.flights;
  }
}

// A worker died: every request still at it fails now with the exit reason
// (a promise parked in a dead actor would otherwise only time out).
void on_worker_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  latest_wins_event ev;
  ev.kind = gate_event::worker_down;
  auto known = st.cfg.worker && st.cfg.worker.address() == dm.source;
  for (auto& kvp : st.keys) {
    if (kvp.second.worker && kvp.second.worker.address() == dm.source) {
      kvp.second.worker = nullptr;
      st.workers->erase(kvp.first);
      ev.key = kvp.first;
      known = true;
    }
  }
  std::vector<uint64_t> lost;
  for (auto& kvp : st.flights)
    if (kvp.second.worker == dm.source)
      lost.push_back(kvp.first);
  // The down message of a per-key worker the gate already let go (it was
  // queued before the demonitor) changes nothing.
  if (!known && lost.empty())
    return;
  auto reason = dm.reason ? dm.reason : caf::make_error(caf::sec::request_receiver_down);
  if (st.cfg.worker && st.cfg.worker.address() == dm.source)
    st.shared_worker_gone = reason;
  ev.lost = lost.size();
  ev.reason = to_string(reason);
  st.log->info("a worker went down with {} request(s) at it: {}", lost.size(), ev.reason);
  for (auto version : lost)
    on_reply(self, version, caf::make_message(reason), true);
  publish(self, std::move(ev));
}

caf::behavior gate_impl(self_ptr self, latest_wins_config cfg,
                        detail::latest_wins_sender sender) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.sender = std::move(sender);
  st.log = log::get("latest_wins");
  st.subscribers = detail::subscriber_list{st.cfg.max_subscribers};
  st.pending = std::make_shared<promise_map>();
  st.workers = std::make_shared<worker_map>();
  if (st.cfg.worker)
    self->monitor(st.cfg.worker);
  self->set_down_handler([self](caf::down_msg& dm) { on_worker_down(self, dm); });
  self->attach_functor(
      [pending = st.pending, workers = st.workers](const caf::error& reason) {
        auto err =
            caf::make_error(error::shut_down, "latest_wins exited: " + to_string(reason));
        for (auto& kvp : *pending)
          kvp.second.deliver(err);
        pending->clear();
        for (auto& kvp : *workers)
          caf::anon_send_exit(kvp.second, caf::exit_reason::user_shutdown);
        workers->clear();
      });
  return {
      [self](submit_atom, std::string& key,
             caf::message& request) -> caf::result<caf::message> {
        auto& st = self->state;
        auto k = st.keys.find(key);
        if (k == st.keys.end()) {
          if (st.keys.size() >= st.cfg.max_keys)
            return caf::make_error(error::overloaded, "latest_wins: too many keys");
          k = st.keys.emplace(key, key_state{}).first;
        }
        auto& ks = k->second;
        auto version = ++st.next_version;
        ks.newest = version;
        ++st.stats.submitted;
        auto was_queued = ks.queued.has_value();
        if (was_queued) {
          ++st.stats.superseded;
          ++st.stats.dropped_before_run;
          answer(self, ks.queued->version,
                 caf::make_error(error::superseded,
                                 "a newer request for '" + key + "' arrived"));
          ks.queued.reset();
        }
        if (ks.running) {
          ++st.stats.superseded;
          answer(self, ks.running->version,
                 caf::make_error(error::superseded,
                                 "a newer request for '" + key + "' arrived"));
          retire_running(self, key, ks);
        }
        auto rp = self->make_response_promise();
        st.pending->emplace(version, rp);
        job j{version, std::move(request)};
        if (st.in_flight < st.cfg.max_in_flight && st.ready.empty()) {
          if (!dispatch(self, key, ks, std::move(j)))
            forget_if_idle(self, key);
        } else {
          // Keys waiting in line go first, also when this request's stale
          // work just freed a slot; a key already waiting keeps its place.
          ks.queued = std::move(j);
          if (!was_queued)
            st.ready.push_back(key);
        }
        // A slot the stale work freed goes to the first key in line.
        pump(self);
        return rp;
      },
      [self](subscribe_atom, const caf::actor& who) -> caf::result<void> {
        if (auto err = self->state.subscribers.add(who, "latest_wins"))
          return err;
        return caf::unit;
      },
      [self](unsubscribe_atom, const caf::actor& who) {
        self->state.subscribers.remove(who);
      },
      [self](stats_atom) {
        auto& st = self->state;
        auto s = st.stats;
        s.in_flight = st.in_flight;
        s.queued = 0;
        for (auto& kvp : st.keys)
          if (kvp.second.queued)
            ++s.queued;
        s.keys = st.keys.size();
        return s;
      },
  };
}

} // namespace

const char* to_string(gate_event x) {
  switch (x) {
  case gate_event::worker_restarted:
    return "worker_restarted";
  case gate_event::worker_down:
    return "worker_down";
  }
  return "?";
}

caf::error validate(const latest_wins_config& cfg) {
  if (!cfg.worker && !cfg.worker_factory)
    return caf::make_error(error::invalid_config,
                           "latest_wins_config.worker or worker_factory must be set");
  if (cfg.worker && cfg.worker_factory)
    return caf::make_error(error::invalid_config,
                           "latest_wins_config.worker and worker_factory are exclusive");
  if (cfg.policy != stale_policy::discard && cfg.policy != stale_policy::cancel &&
      cfg.policy != stale_policy::restart)
    return caf::make_error(error::invalid_config,
                           "latest_wins_config.policy is not a stale_policy");
  if (cfg.policy == stale_policy::restart && !cfg.worker_factory)
    return caf::make_error(error::invalid_config,
                           "latest_wins_config.policy restart needs worker_factory");
  if (cfg.max_in_flight == 0)
    return caf::make_error(error::invalid_config,
                           "latest_wins_config.max_in_flight must be positive");
  if (cfg.max_keys == 0)
    return caf::make_error(error::invalid_config,
                           "latest_wins_config.max_keys must be positive");
  if (cfg.max_subscribers == 0)
    return caf::make_error(error::invalid_config,
                           "latest_wins_config.max_subscribers must be positive");
  if (cfg.worker_timeout <= caf::timespan::zero())
    return caf::make_error(error::invalid_config,
                           "latest_wins_config.worker_timeout must be positive");
  return caf::none;
}

namespace detail {

caf::expected<caf::actor> spawn_latest_wins_impl(caf::actor_system& sys,
                                                 latest_wins_config cfg,
                                                 latest_wins_sender sender) {
  if (auto err = validate(cfg))
    return err;
  return sys.spawn(gate_impl, std::move(cfg), std::move(sender));
}

} // namespace detail

} // namespace actorkit
