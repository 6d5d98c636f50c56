#include <actorkit/actors/mutex.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>

#include <caf/actor_cast.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <actorkit/actors/detail/pending_timers.hpp>
#include <actorkit/actors/detail/subscribers.hpp>
#include <actorkit/actors/detail/weak_timer.hpp>
#include <actorkit/actors/error.hpp>
#include <actorkit/actors/log.hpp>

namespace actorkit {

namespace {

using time_point = caf::actor_clock::time_point;

constexpr auto never = time_point::max();

struct waiter {
  caf::typed_response_promise<lease> rp;
  caf::actor_addr who;
  caf::timespan hold;
  // When the wait ends; `never` without a wait limit.
  time_point deadline;
};

// Waiters by id, which grows: the first is the longest waiting. They live
// outside the state so that the exit path (an attached functor, which runs
// after the state is gone) can answer them.
using waiter_queue = std::map<uint64_t, waiter>;

struct mutex_state {
  static inline const char* name = "actorkit.mutex";
  mutex_config cfg;
  std::shared_ptr<waiter_queue> waiters;
  // Waiters with a wait limit, earliest deadline first.
  std::set<std::pair<time_point, uint64_t>> deadlines;
  lease current;
  // When the current lease is revoked; `never` without a hold limit.
  time_point lease_deadline = never;
  // The pending timers: one is added only for a deadline before all of them.
  detail::pending_timers timers;
  detail::weak_timer<expire_atom> timer;
  uint64_t next_token = 1;
  uint64_t next_waiter = 0;
  std::deque<uint64_t> expired;
  // Monitored actors and how many waits or leases each has open.
  std::unordered_map<caf::actor_addr, size_t> refs;
  mutex_stats stats;
  detail::subscriber_list subscribers;
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

// Keeps a timer pending for the earliest deadline (the lease's or a
// waiter's). A timer that fires finds what is due and arms again for the
// next deadline, unless a pending timer already comes at or before it.
void arm(self_ptr self) {
  auto& st = self->state;
  auto next = st.lease_deadline;
  if (!st.deadlines.empty())
    next = std::min(next, st.deadlines.begin()->first);
  if (!st.timers.need(next))
    return;
  auto now = self->clock().now();
  st.timer.send(self, next > now ? next - now : caf::timespan::zero(),
                detail::pending_timers::stamp(next));
}

// Takes waiter `id` out of the queue.
waiter take_waiter(self_ptr self, waiter_queue::iterator i) {
  auto& st = self->state;
  auto w = std::move(i->second);
  if (w.deadline != never)
    st.deadlines.erase({w.deadline, i->first});
  st.waiters->erase(i);
  return w;
}

// Answers a waiter taken out of the queue whose wait is over.
void wait_over(self_ptr self, waiter w) {
  ++self->state.stats.wait_timeouts;
  w.rp.deliver(caf::make_error(caf::sec::request_timeout));
  unref(self, w.who);
}

lease grant(self_ptr self, const caf::actor_addr& who, caf::timespan hold) {
  auto& st = self->state;
  st.current = lease{st.next_token++, who, self->address()};
  ++st.stats.grants;
  auto limit = std::min(hold, st.cfg.max_hold);
  st.lease_deadline = is_no_limit(limit) ? never : self->clock().now() + limit;
  arm(self);
  return st.current;
}

// Hands the free lock to the first waiter still in time, if any. A waiter
// whose wait ended before now (its timer's message not handled yet) is
// answered `sec::request_timeout` instead: its caller may have given up.
void grant_next(self_ptr self) {
  auto& st = self->state;
  if (st.current.token != 0 || st.waiters->empty())
    return;
  auto now = self->clock().now();
  while (!st.waiters->empty()) {
    auto w = take_waiter(self, st.waiters->begin());
    if (w.deadline < now) {
      wait_over(self, std::move(w));
      continue;
    }
    w.rp.deliver(grant(self, w.who, w.hold));
    return;
  }
}

void free_lock(self_ptr self) {
  auto& st = self->state;
  auto who = st.current.holder;
  st.current = lease{};
  st.lease_deadline = never;
  unref(self, who);
  grant_next(self);
}

// Tells every subscriber that lease `l` ended, after the lock passed on.
void publish(self_ptr self, lock_event kind, const lease& l, std::string reason = {}) {
  auto& st = self->state;
  if (st.subscribers.empty())
    return;
  mutex_event ev;
  ev.kind = kind;
  ev.token = l.token;
  ev.holder = l.holder;
  ev.next_token = st.current.token;
  ev.queued = st.waiters->size();
  ev.reason = std::move(reason);
  // A typed actor may not send() to a dynamically typed one: enqueue the
  // message from the mutex directly.
  auto msg = caf::make_message(std::move(ev));
  st.subscribers.for_each([&](const caf::actor& who) {
    caf::actor_cast<caf::abstract_actor*>(who)->enqueue(
        caf::strong_actor_ptr{self->ctrl()}, caf::make_message_id(), msg,
        self->context());
  });
}

void on_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  auto who = msg.source;
  st.refs.erase(who);
  auto& q = *st.waiters;
  for (auto i = q.begin(); i != q.end();) {
    if (i->second.who == who) {
      auto next = std::next(i);
      take_waiter(self, i);
      ++st.stats.dead_waiters;
      i = next;
    } else {
      ++i;
    }
  }
  if (st.current.token != 0 && st.current.holder == who) {
    ++st.stats.releases_by_death;
    auto reason = to_string(msg.reason);
    st.log->info("holder of lease {} died ({}); the lock passes on", st.current.token,
                 reason);
    auto ended = st.current;
    st.current = lease{};
    st.lease_deadline = never;
    grant_next(self);
    publish(self, lock_event::holder_died, ended, std::move(reason));
  }
}

// The timer fired: a lease past its hold time is revoked (the lock passes to
// the first waiter, even one whose wait ends at this very moment), then
// waiters whose wait is over are answered.
void on_timer(self_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  if (st.current.token != 0 && st.lease_deadline <= now) {
    auto token = st.current.token;
    ++st.stats.expiries;
    st.expired.push_back(token);
    if (st.expired.size() > st.cfg.expired_memory)
      st.expired.pop_front();
    st.log->info("lease {} exceeded its hold time and was revoked", token);
    auto ended = st.current;
    free_lock(self);
    publish(self, lock_event::lease_revoked, ended);
  }
  while (!st.deadlines.empty() && st.deadlines.begin()->first <= now) {
    auto i = st.waiters->find(st.deadlines.begin()->second);
    if (i == st.waiters->end()) {
      // Cannot happen (take_waiter removes both); never dereference end().
      st.deadlines.erase(st.deadlines.begin());
      continue;
    }
    wait_over(self, take_waiter(self, i));
  }
  arm(self);
}

mutex_actor::behavior_type mutex_impl(self_ptr self, mutex_config cfg) {
  auto& st = self->state;
  st.cfg = cfg;
  st.subscribers = detail::subscriber_list{cfg.max_subscribers};
  st.log = log::get("mutex");
  st.waiters = std::make_shared<waiter_queue>();
  self->attach_functor([waiters = st.waiters](const caf::error& reason) {
    auto err = caf::make_error(error::shut_down, "mutex exited: " + to_string(reason));
    for (auto& kvp : *waiters)
      kvp.second.rp.deliver(err);
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
        auto deadline = is_no_limit(wait) ? never : self->clock().now() + wait;
        st.waiters->emplace(id, waiter{rp, who, hold, deadline});
        ref(self, who);
        if (deadline != never) {
          st.deadlines.emplace(deadline, id);
          arm(self);
        }
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
        if (l.mutex != self->address())
          return caf::make_error(error::not_owner, "lease " + std::to_string(l.token) +
                                                       " was granted by another mutex");
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
      [self](subscribe_atom, const caf::actor& who) -> caf::result<void> {
        if (auto err = self->state.subscribers.add(who, "mutex"))
          return err;
        return caf::unit;
      },
      [self](unsubscribe_atom, const caf::actor& who) {
        self->state.subscribers.remove(who);
      },
      [self](expire_atom, uint64_t stamp) {
        // The mutex's own timer only: from anyone else it changes nothing.
        if (self->state.timer.sent(self->current_sender()) &&
            self->state.timers.fired(stamp, self->clock().now()))
          on_timer(self);
      },
  };
}

} // namespace

const char* to_string(lock_event x) {
  switch (x) {
  case lock_event::lease_revoked:
    return "lease_revoked";
  case lock_event::holder_died:
    return "holder_died";
  }
  return "?";
}

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
  if (cfg.max_subscribers == 0)
    return caf::make_error(error::invalid_config,
                           "mutex_config.max_subscribers must be positive");
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
