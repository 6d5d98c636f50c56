/// Serialized state: an actor that owns one value of type T and applies
/// updates to it strictly one at a time, where an update may itself be
/// asynchronous (read, ask another actor, then write). The next update does
/// not start until the current one has committed. This is the lesson's
/// counter race fixed without any lock.
///
///   auto counter = actorkit::spawn_serialized<int64_t>(sys, {0});
///   self->request(*counter, 5s, update_atom_v,
///                 update_op<int64_t>{[db](caf::event_based_actor* self,
///                                         const int64_t& v, auto commit) {
///                   self->request(db, 1s, ask_atom_v, v).then(
///                     guarded(commit, [=](int64_t) { commit(v + 1); }),
///                     [=](caf::error& e) { commit(std::move(e)); });
///                 }})
///     .then([](int64_t now) { ... });
///
/// Protocol:
///   (get_atom) -> T
///       The last committed value, answered at once: a get does not wait
///       behind queued updates and never sees a half-done one.
///   (update_atom, update_op<T>) -> T
///       Queued FIFO. When its turn comes, `op.fn(self, value, commit)` runs
///       inside the serialized actor (so it may send requests from `self`);
///       `commit(T)` stores the new value and answers the caller with it,
///       `commit(caf::error)` leaves the value unchanged and answers the
///       error. A full queue answers `error::overloaded`.
///
/// When an update fails (it commits an error, throws, or does not commit
/// within `serialized_config::op_timeout`, answered `sec::request_timeout`)
/// the value stays as it was and only that caller gets the error; the queued
/// updates behind it then run as usual, each on the last committed value.
/// "Throws" covers `fn` itself and the continuations it wraps with
/// `guarded(commit, f)`: an exception that escapes a continuation CAF runs
/// for the actor ends the actor, as in any CAF actor (every waiting update
/// is then answered `error::shut_down`). After a timeout the next update
/// starts while the timed-out one's continuations may still run: its commit
/// is ignored, but what it does to the outside world is not undone.
/// Updates are independent requests from independent callers, so one
/// caller's failure never cancels another's work. A commit after the timeout
/// is ignored, as is any second commit. `commit` must be called from the
/// serialized actor's own context (the op's continuations), never from
/// another thread.
///
/// When the actor exits, the running and every queued update are answered
/// `error::shut_down`.
#pragma once

#include <chrono>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/detail/type_traits.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/response_promise.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>

#include <actorkit/actors/detail/weak_timer.hpp>
#include <actorkit/actors/error.hpp>
#include <actorkit/actors/type_ids.hpp>
#include <actorkit/patterns/call.hpp>

namespace actorkit {

/// Completes one update: a new value or an error.
template <class T>
using commit_fn = std::function<void(caf::expected<T>)>;

/// One update of a serialized value. It lives only in the process that
/// created it (it carries a function), so it cannot cross the network.
template <class T>
struct update_op {
  std::function<void(caf::event_based_actor*, const T&, commit_fn<T>)> fn;

  /// An update that computes the new value synchronously.
  template <class F>
  static update_op apply(F f) {
    return {[f](caf::event_based_actor*, const T& x, commit_fn<T> commit) {
      commit(caf::expected<T>{f(x)});
    }};
  }
};

namespace detail {

template <class T, class F, class Args>
struct guarded_fn;

template <class T, class F, class... Args>
struct guarded_fn<T, F, caf::detail::type_list<Args...>> {
  commit_fn<T> commit;
  F f;

  void operator()(Args... xs) {
    try {
      f(std::forward<Args>(xs)...);
    } catch (std::exception& e) {
      commit(caf::make_error(caf::sec::runtime_error,
                             std::string{"update threw: "} + e.what()));
    } catch (...) {
      commit(caf::make_error(caf::sec::runtime_error, "update threw"));
    }
  }
};

} // namespace detail

/// Wraps a continuation of an update (a response handler it registers): an
/// exception `f` throws fails only this update, committed as
/// `sec::runtime_error`, instead of ending the serialized actor. The wrapper
/// takes the same arguments as `f`, so CAF matches it as it would `f`.
template <class T, class F>
auto guarded(commit_fn<T> commit, F f) {
  using args = typename caf::detail::get_callable_trait<F>::arg_types;
  return detail::guarded_fn<T, F, args>{std::move(commit), std::move(f)};
}

/// The serialized value's typed interface.
template <class T>
using serialized_actor = caf::typed_actor<
    typename caf::replies_to<get_atom>::template with<T>,
    typename caf::replies_to<update_atom, update_op<T>>::template with<T>>;

/// Options of a serialized value.
template <class T>
struct serialized_config {
  /// The value before the first update.
  T initial{};
  /// Most updates queued (the running one included); positive.
  size_t max_queued = 10000;
  /// Longest time one update may take before it fails with
  /// `sec::request_timeout` and the next starts; positive, or `no_limit` (100
  /// years or more counts as no limit).
  caf::timespan op_timeout = std::chrono::seconds(30);
};

/// Checks `cfg`: `error::invalid_config` naming the field, or no error.
template <class T>
caf::error validate(const serialized_config<T>& cfg) {
  if (cfg.max_queued == 0)
    return caf::make_error(error::invalid_config,
                           "serialized_config.max_queued must be positive");
  if (cfg.op_timeout <= caf::timespan::zero())
    return caf::make_error(error::invalid_config,
                           "serialized_config.op_timeout must be positive");
  return caf::none;
}

namespace detail {

template <class T>
struct serialized_entry {
  uint64_t id;
  update_op<T> op;
  caf::response_promise rp;
};

template <class T>
struct serialized_state {
  static inline const char* name = "actorkit.serialized";
  serialized_config<T> cfg;
  T value;
  // Outside the state's lifetime too: the exit path answers them.
  std::shared_ptr<std::deque<serialized_entry<T>>> queue;
  uint64_t next_id = 0;
  bool running = false;
  bool in_call = false;
  // When the running update times out.
  caf::actor_clock::time_point deadline;
  // The one timer: when it fires (max: none pending) and its number. Updates
  // start one after another, so their deadlines only grow: a timer that
  // fires before the running update's deadline is armed again for it.
  caf::actor_clock::time_point timer_at = caf::actor_clock::time_point::max();
  uint64_t timer_seq = 0;
  detail::weak_timer<tick_atom> timer;
};

template <class T>
using serialized_self = caf::stateful_actor<serialized_state<T>>;

template <class T>
void serialized_run(serialized_self<T>* self);

template <class T>
void serialized_arm(serialized_self<T>* self) {
  auto& st = self->state;
  if (!st.running || is_no_limit(st.cfg.op_timeout) || st.timer_at <= st.deadline)
    return;
  st.timer_at = st.deadline;
  auto now = self->clock().now();
  st.timer.send(self, st.deadline > now ? st.deadline - now : caf::timespan::zero(),
                ++st.timer_seq);
}

template <class T>
void serialized_commit(serialized_self<T>* self, uint64_t id, caf::expected<T> result) {
  auto& st = self->state;
  if (!st.running || st.queue->empty() || st.queue->front().id != id)
    return;
  auto entry = std::move(st.queue->front());
  st.queue->pop_front();
  st.running = false;
  if (result) {
    st.value = std::move(*result);
    entry.rp.deliver(st.value);
  } else if (result.error()) {
    entry.rp.deliver(std::move(result.error()));
  } else {
    // "No error" is no answer: the caller must learn that the update failed.
    entry.rp.deliver(caf::make_error(caf::sec::runtime_error,
                                     "serialized: the update committed an empty error"));
  }
  if (!st.in_call)
    serialized_run(self);
}

template <class T>
void serialized_run(serialized_self<T>* self) {
  auto& st = self->state;
  while (!st.running && !st.queue->empty()) {
    st.running = true;
    auto id = st.queue->front().id;
    auto fn = st.queue->front().op.fn;
    commit_fn<T> commit = [self, id](caf::expected<T> r) {
      serialized_commit(self, id, std::move(r));
    };
    if (!is_no_limit(st.cfg.op_timeout))
      st.deadline = self->clock().now() + st.cfg.op_timeout;
    st.in_call = true;
    try {
      fn(self, static_cast<const T&>(st.value), commit);
    } catch (std::exception& e) {
      commit(caf::make_error(caf::sec::runtime_error,
                             std::string{"update threw: "} + e.what()));
    } catch (...) {
      commit(caf::make_error(caf::sec::runtime_error, "update threw"));
    }
    st.in_call = false;
  }
  serialized_arm(self);
}

template <class T>
caf::behavior serialized_impl(serialized_self<T>* self, serialized_config<T> cfg) {
  auto& st = self->state;
  st.value = cfg.initial;
  st.cfg = std::move(cfg);
  st.queue = std::make_shared<std::deque<serialized_entry<T>>>();
  self->attach_functor([q = st.queue](const caf::error& reason) {
    auto err =
        caf::make_error(error::shut_down, "serialized exited: " + to_string(reason));
    for (auto& e : *q)
      e.rp.deliver(err);
    q->clear();
  });
  return {
      [self](get_atom) { return self->state.value; },
      [self](update_atom, update_op<T>& op) -> caf::result<T> {
        auto& st = self->state;
        if (!op.fn)
          return caf::make_error(error::invalid_config, "update_op.fn is empty");
        if (st.queue->size() >= st.cfg.max_queued)
          return caf::make_error(error::overloaded,
                                 "serialized: too many queued updates");
        auto rp = self->make_response_promise();
        st.queue->push_back(serialized_entry<T>{st.next_id++, std::move(op), rp});
        serialized_run(self);
        return rp;
      },
      [self](tick_atom, uint64_t seq) {
        auto& st = self->state;
        // The actor's own timer only: from anyone else it changes nothing.
        if (!st.timer.sent(self->current_sender()) || seq != st.timer_seq)
          return;
        st.timer_at = caf::actor_clock::time_point::max();
        if (st.running && st.deadline <= self->clock().now())
          serialized_commit<T>(
              self, st.queue->front().id,
              caf::make_error(caf::sec::request_timeout, "update took too long"));
        serialized_arm(self);
      },
  };
}

} // namespace detail

/// Spawns a serialized value; a bad config is refused with
/// `error::invalid_config`.
template <class T>
caf::expected<serialized_actor<T>> spawn_serialized(caf::actor_system& sys,
                                                    serialized_config<T> cfg = {}) {
  if (auto err = validate(cfg))
    return err;
  auto hdl = sys.spawn(detail::serialized_impl<T>, std::move(cfg));
  return caf::actor_cast<serialized_actor<T>>(hdl);
}

} // namespace actorkit

namespace caf {

template <class T>
struct allowed_unsafe_message_type<actorkit::update_op<T>> : std::true_type {};

} // namespace caf
