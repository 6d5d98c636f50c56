#include <actorkit/actors/mutex.hpp>

#include <algorithm>
#include <deque>
#include <memory>
#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <actorkit/actors/error.hpp>
#include <actorkit/actors/log.hpp>

namespace actorkit {

namespace {

struct waiter {
  uint64_t id;
  caf::typed_response_promise<lease> rp;
  caf::actor_addr who;
  caf::timespan hold;
};

// Waiters live outside the state so that the exit path (an attached functor,
// which runs after the state is gone) can answer them.
using waiter_queue = std::deque<waiter>;

struct mutex_state {
  static inline const char* name = "actorkit.mutex";
  mutex_config cfg;
  std::shared_ptr<waiter_queue> waiters;
  lease current;
  uint64_t next_token = 1;
  uint64_t next_waiter = 0;
  std::deque<uint64_t> expired;
  // Monitored actors and how many waits or leases each has open.
  std::unordered_map<caf::actor_addr, size_t> refs;
  mutex_stats stats;
  std::shared_ptr<spdlog::logger> log;
};

using self_ptr = mutex_actor::stateful_pointer<mutex_state>;

void ref(self_ptr self, const caf::actor_addr& who) {
  auto& refs = self->state.refs;
  auto i = refs.find(who);
  if (i == refs.end()) {
    self->monitor(who);
    refs.emplace(who, 1);
  } else {
    ++i->second;
  }
}

void unref(self_ptr self, const caf::actor_addr& who) {
  auto& refs = self->state.refs;
  auto i = refs.find(who);
  if (i == refs.end() || --i->second > 0)
    return;
  if (refs.size() > self->state.cfg.monitor_cache) {
    self->demonitor(who);
    refs.erase(i);
  }
}

lease grant(self_ptr self, const caf::actor_addr& who, caf::timespan hold) {
  auto& st = self->state;
  st.current = lease{st.next_token++, who};
  ++st.stats.grants;
  auto limit = std::min(hold, st.cfg.max_hold);
  if (!is_no_limit(limit))
    self->delayed_send(self, limit, expire_atom_v, st.current.token);
  return st.current;
}

// Hands the free lock to the first waiter, if any.
void grant_next(self_ptr self) {
  auto& st = self->state;
  if (st.current.token != 0 || st.waiters->empty())
    return;
  auto w = std::move(st.waiters->front());
  st.waiters->pop_front();
  w.rp.deliver(grant(self, w.who, w.hold));
}

void free_lock(self_ptr self) {
  auto who = self->state.current.holder;
  self->state.current = lease{};
  unref(self, who);
  grant_next(self);
}

void on_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto who = msg.source;
  st.refs.erase(who);
  auto& q = *st.waiters;
  auto before = q.size();
  q.erase(
      std::remove_if(q.begin(), q.end(), [&](const waiter& w) { return w.who == who; }),
      q.end());
  st.stats.dead_waiters += before - q.size();
  if (st.current.token != 0 && st.current.holder == who) {
    ++st.stats.releases_by_death;
    st.log->info("holder of lease {} died ({}); the lock passes on", st.current.token,
                 to_string(msg.reason));
    st.current = lease{};
    grant_next(self);
  }
}

mutex_actor::behavior_type mutex_impl(self_ptr self, mutex_config cfg) {
  auto& st = self->state;
  st.cfg = cfg;
  st.log = log::get("mutex");
  st.waiters = std::make_shared<waiter_queue>();
  self->attach_functor([waiters = st.waiters](const caf::error& reason) {
    auto err = caf::make_error(error::shut_down, "mutex exited: " + to_string(reason));
    for (auto& w : *waiters)
      w.rp.deliver(err);
    waiters->clear();
  });
  self->set_down_handler([self](caf::down_msg& msg) { on_down(self, msg); });
  return {
      [self](acquire_atom, caf::timespan wait, caf::timespan hold) -> caf::result<lease> {
        auto& st = self->state;
        auto who = caf::actor_cast<caf::actor_addr>(self->current_sender());
        if (!who)
          return caf::make_error(error::invalid_config, "acquire needs a sender");
        if (wait < caf::timespan::zero())
          return caf::make_error(error::invalid_config,
                                 "acquire.wait must not be negative");
        if (hold <= caf::timespan::zero())
          return caf::make_error(error::invalid_config, "acquire.hold must be positive");
        if (st.current.token == 0 && st.waiters->empty()) {
          ref(self, who);
          return grant(self, who, hold);
        }
        if (wait == caf::timespan::zero()) {
          ++st.stats.wait_timeouts;
          return caf::make_error(caf::sec::request_timeout);
        }
        if (st.waiters->size() >= st.cfg.max_waiters)
          return caf::make_error(error::overloaded, "mutex: too many waiters");
        auto rp = self->make_response_promise<lease>();
        auto id = st.next_waiter++;
        st.waiters->push_back(waiter{id, rp, who, hold});
        ref(self, who);
        if (!is_no_limit(wait))
          self->delayed_send(self, wait, wait_over_atom_v, id);
        return rp;
      },
      [self](try_acquire_atom) -> caf::result<lease> {
        auto& st = self->state;
        auto who = caf::actor_cast<caf::actor_addr>(self->current_sender());
        if (!who)
          return caf::make_error(error::invalid_config, "try_acquire needs a sender");
        if (st.current.token != 0 || !st.waiters->empty()) {
          ++st.stats.wait_timeouts;
          return caf::make_error(caf::sec::request_timeout);
        }
        ref(self, who);
        return grant(self, who, no_limit);
      },
      [self](release_atom, const lease& l) -> caf::result<void> {
        auto& st = self->state;
        if (l.token != 0 && l.token == st.current.token &&
            l.holder == st.current.holder) {
          ++st.stats.releases;
          free_lock(self);
          return caf::unit;
        }
        if (l.token != 0 &&
            std::find(st.expired.begin(), st.expired.end(), l.token) != st.expired.end())
          return caf::make_error(error::lease_expired,
                                 "lease " + std::to_string(l.token) + " was revoked");
        return caf::make_error(error::not_owner, "lease " + std::to_string(l.token) +
                                                     " is not the current one");
      },
      [self](stats_atom) {
        auto& st = self->state;
        auto s = st.stats;
        s.holder = st.current.holder;
        s.token = st.current.token;
        s.queued = st.waiters->size();
        return s;
      },
      [self](expire_atom, uint64_t token) {
        auto& st = self->state;
        // The mutex's own timer only: from anyone else it changes nothing.
        if (self->current_sender().get() != self->ctrl() || st.current.token != token)
          return;
        ++st.stats.expiries;
        st.expired.push_back(token);
        if (st.expired.size() > st.cfg.expired_memory)
          st.expired.pop_front();
        st.log->info("lease {} exceeded its hold time and was revoked", token);
        free_lock(self);
      },
      [self](wait_over_atom, uint64_t id) {
        if (self->current_sender().get() != self->ctrl())
          return;
        auto& st = self->state;
        auto& q = *st.waiters;
        auto i = std::find_if(q.begin(), q.end(),
                              [id](const waiter& w) { return w.id == id; });
        if (i == q.end())
          return;
        auto w = std::move(*i);
        q.erase(i);
        ++st.stats.wait_timeouts;
        w.rp.deliver(caf::make_error(caf::sec::request_timeout));
        unref(self, w.who);
      },
  };
}

} // namespace

caf::error validate(const mutex_config& cfg) {
  if (cfg.max_hold <= caf::timespan::zero())
    return caf::make_error(error::invalid_config,
                           "mutex_config.max_hold must be positive");
  if (cfg.max_waiters == 0)
    return caf::make_error(error::invalid_config,
                           "mutex_config.max_waiters must be positive");
  if (cfg.expired_memory == 0)
    return caf::make_error(error::invalid_config,
                           "mutex_config.expired_memory must be positive");
  if (cfg.monitor_cache == 0)
    return caf::make_error(error::invalid_config,
                           "mutex_config.monitor_cache must be positive");
  return caf::none;
}

caf::expected<mutex_actor> spawn_mutex(caf::actor_system& sys, mutex_config cfg) {
  if (auto err = validate(cfg))
    return err;
  return sys.spawn(mutex_impl, std::move(cfg));
}

} // namespace actorkit
