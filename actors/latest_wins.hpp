/// Latest-wins: a versioning gate in front of a worker, the lesson's
/// `LatestPromise` for search-as-you-type, done better. Each request carries a
/// key (one key by default) and gets a version; for each key only the newest
/// version may complete.
///
///   latest_wins_config cfg;
///   cfg.worker = search_service;                  // any actor answering requests
///   auto gate = actorkit::spawn_latest_wins<std::string>(sys, cfg);
///   self->request(*gate, 5s, submit_atom_v, std::string{"search"},
///                 caf::make_message(ask_atom_v, std::string{"abc"}))
///     .then([](std::string& hits) { ... },
///           [](caf::error& e) { /* error::superseded, or the worker's error */ });
///
/// Protocol (R is the worker's answer type, fixed by the typed handle):
///   (submit_atom, std::string key, caf::message request) -> R
///       `request` goes to the worker and the worker's answer comes back.
///       When a newer submit for the same key arrives, this caller is
///       answered `error::superseded` at once, not when its work finishes.
///       A submit still waiting for a worker slot is dropped before it runs;
///       a stale answer that still arrives is discarded. Too many keys at
///       once: `error::overloaded`.
///   (stats_atom) -> latest_wins_stats
///   (subscribe_atom, caf::actor who) -> void
///       `who` gets a `latest_wins_event` (a plain message from the gate)
///       when a worker is restarted or dies. Subscribers are held weakly and
///       dead ones dropped; at most config.max_subscribers, beyond that
///       `error::overloaded`; a null `who`: `error::invalid_config`.
///   (unsubscribe_atom, caf::actor who) -> void
///
/// What happens to stale work already at the worker (`stale_policy`):
///   - discard (default): it runs to the end and its answer is dropped; it
///     keeps its worker slot until then.
///   - cancel: the worker is sent `cancel_message(key, request)` (by default
///     `(cancel_atom, key)`) and the slot is freed at once; whatever the
///     worker answers later is dropped. (CAF keeps the gate's response
///     handler until that answer or `worker_timeout`: with `no_limit`, a
///     worker should answer cancelled requests, e.g. with an error.)
///   - restart: the key's worker is killed and a new one made by
///     `worker_factory` serves the next request. Needs one worker per key
///     (`worker_factory`), so that restarting never touches other keys.
/// Keys never interfere: versions are compared per key only, and with a
/// factory every key has its own worker.
///
/// Versioned writes live here too: `versioned_actor<T>` (below) holds a value
/// with a version and refuses updates that are not newer, so out-of-order
/// answers can never roll state back.
///
/// Every caller is answered exactly once. When the gate exits, every caller
/// still waiting is answered `error::shut_down`, and the per-key workers it
/// made are stopped. A worker that does not answer within `worker_timeout`
/// fails its caller with `sec::request_timeout`. The gate monitors its
/// workers: when one dies, every request still at it fails at once with the
/// worker's exit reason (`sec::request_receiver_down` for a normal exit, also
/// for a request it had passed on with `delegate`: keep a worker that
/// delegates alive until the answer), and a per-key worker is made anew for
/// the next request of its key. A shared worker that is gone stays gone: every later
/// submit fails at once with its exit reason (a request to a dead remote
/// actor would be dropped without an answer).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/duration.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <actorkit/actors/type_ids.hpp>
#include <actorkit/patterns/call.hpp>
#include <actorkit/patterns/detail/send.hpp>

namespace actorkit {

/// Counters of a latest-wins gate.
struct latest_wins_stats {
  /// Submits accepted.
  uint64_t submitted = 0;
  /// Submits answered with the worker's answer (value or error).
  uint64_t completed = 0;
  /// Callers answered `superseded`.
  uint64_t superseded = 0;
  /// Superseded submits that never reached the worker.
  uint64_t dropped_before_run = 0;
  /// Answers of stale work that arrived and were discarded.
  uint64_t stale_discarded = 0;
  /// Cancel messages sent (cancel policy).
  uint64_t cancels_sent = 0;
  /// Workers killed and replaced (restart policy).
  uint64_t restarts = 0;
  /// Submits answered with an error because worker_factory threw or
  /// returned no actor.
  uint64_t factory_failures = 0;
  /// Requests at the worker(s) now, stale ones included.
  uint64_t in_flight = 0;
  /// Submits waiting for a worker slot.
  uint64_t queued = 0;
  /// Keys with work waiting or running.
  uint64_t keys = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, latest_wins_stats& x) {
  return f(caf::meta::type_name("latest_wins_stats"), x.submitted, x.completed,
           x.superseded, x.dropped_before_run, x.stale_discarded, x.cancels_sent,
           x.restarts, x.factory_failures, x.in_flight, x.queued, x.keys);
}

/// What changed in a latest-wins gate; see latest_wins_event.
enum class gate_event : uint8_t {
  /// The worker of `key` was killed to stop stale version `version`
  /// (restart policy); the key's next request gets a new one from the
  /// factory.
  worker_restarted,
  /// A worker died (`key` names its key for a per-key worker, empty for the
  /// shared one); its `lost` requests failed with `reason`. A per-key worker
  /// that answered all its requests (with its exit reason, say) before its
  /// death reached the gate is not reported: the gate had let it go.
  worker_down,
};

/// The name of `x`, e.g. "worker_restarted".
const char* to_string(gate_event x);

/// A latest-wins gate's message to its subscribers.
struct latest_wins_event {
  gate_event kind = gate_event::worker_restarted;
  std::string key;
  uint64_t version = 0;
  uint64_t lost = 0;
  /// The worker's exit reason, rendered (worker_down only).
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, latest_wins_event& x) {
  return f(caf::meta::type_name("latest_wins_event"), x.kind, x.key, x.version, x.lost,
           x.reason);
}

/// The gate's typed interface for a worker answering `R`.
template <class R>
using latest_wins_actor = caf::typed_actor<
    typename caf::replies_to<submit_atom, std::string, caf::message>::template with<R>,
    caf::replies_to<stats_atom>::with<latest_wins_stats>,
    caf::reacts_to<subscribe_atom, caf::actor>,
    caf::reacts_to<unsubscribe_atom, caf::actor>>;

/// What to do with stale work already at the worker.
enum class stale_policy : uint8_t { discard, cancel, restart };

/// Options of a latest-wins gate. Exactly one of `worker` and
/// `worker_factory` must be set; `restart` needs the factory.
struct latest_wins_config {
  /// One worker shared by every key.
  caf::actor worker;
  /// Makes one worker per key: spawned when the key gets work, stopped when
  /// the key has nothing waiting or running (and when the gate exits), so a
  /// worker keeps no state from one burst of a key to the next.
  /// If it throws or returns no actor, the submit that needed the worker is
  /// answered `sec::runtime_error` (naming the cause) and the gate goes on.
  std::function<caf::actor(caf::actor_system&)> worker_factory;
  /// Treatment of stale work at the worker.
  stale_policy policy = stale_policy::discard;
  /// The cancel message sent to the worker (cancel policy). If it throws, no
  /// cancel is sent (logged at warning): that stale work is only discarded,
  /// and keeps its slot until it ends.
  std::function<caf::message(const std::string& key, const caf::message& request)>
      cancel_message;
  /// Most requests at the worker(s) at once, stale ones included; positive.
  /// Under the cancel policy a slot is freed when the cancel is sent, so a
  /// worker that is still busy may hold more requests in its mailbox.
  /// Submits beyond it wait in a queue (one per key: older ones are dropped).
  size_t max_in_flight = 64;
  /// Most keys with work waiting or running; positive. Beyond it a submit
  /// for a new key is answered `error::overloaded`.
  size_t max_keys = 10000;
  /// Timeout of each request to the worker; positive, or `no_limit` for
  /// none (saves a clock entry per request; a worker that never answers then
  /// holds its caller and its slot until the gate exits). CAF keeps the
  /// gate's handler of each request to a worker until that request is
  /// answered or times out; a worker that dies holding a request (killed by
  /// the restart policy, say) never answers it. With `no_limit` each such
  /// request then keeps a small handler in the gate until the gate exits (its
  /// caller is answered all the same), so pair restart with a finite timeout.
  caf::timespan worker_timeout = std::chrono::seconds(30);
  /// Subscribers (subscribe_atom) at most; positive.
  size_t max_subscribers = 16;
};

/// Checks `cfg`: `error::invalid_config` naming the field, or no error.
caf::error validate(const latest_wins_config& cfg);

namespace detail {

/// Sends one request to the worker and reports its answer as a message
/// (`failed` for an error); made by spawn_latest_wins<R>, which knows R.
using latest_wins_sender =
    std::function<void(caf::event_based_actor* self, const caf::actor& worker,
                       caf::timespan timeout, const caf::message& request,
                       std::function<void(caf::message, bool failed)> on_reply)>;

caf::expected<caf::actor> spawn_latest_wins_impl(caf::actor_system& sys,
                                                 latest_wins_config cfg,
                                                 latest_wins_sender sender);

} // namespace detail

/// Spawns a gate in front of a worker answering `R`; a bad config is refused
/// with `error::invalid_config`. A worker answer of another type fails the
/// caller with `sec::unexpected_response`.
template <class R>
caf::expected<latest_wins_actor<R>> spawn_latest_wins(caf::actor_system& sys,
                                                      latest_wins_config cfg) {
  detail::latest_wins_sender sender = [](caf::event_based_actor* self,
                                         const caf::actor& worker, caf::timespan timeout,
                                         const caf::message& request, auto on_reply) {
    auto t = is_no_limit(timeout) ? caf::duration{caf::infinite} : caf::duration{timeout};
    self->request(worker, t, request)
        .then([on_reply](R& x) { on_reply(caf::make_message(std::move(x)), false); },
              [on_reply](caf::error& e) {
                on_reply(caf::make_message(detail::non_empty(std::move(e))), true);
              });
  };
  auto hdl = detail::spawn_latest_wins_impl(sys, std::move(cfg), std::move(sender));
  if (!hdl)
    return hdl.error();
  return caf::actor_cast<latest_wins_actor<R>>(*hdl);
}

/// The call submitting `xs...` under `key` to `gate`, answered with R.
template <class R, class... Ts>
call<R> latest(const latest_wins_actor<R>& gate, std::string key, Ts&&... xs) {
  return ask<R>(gate, submit_atom_v, std::move(key),
                caf::make_message(std::forward<Ts>(xs)...));
}

// -- versioned state ----------------------------------------------------------

/// The answer to a versioned put: whether it was applied, and the version
/// held afterwards (the put's own version when accepted).
struct version_ack {
  bool accepted = false;
  uint64_t version = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, version_ack& x) {
  return f(caf::meta::type_name("version_ack"), x.accepted, x.version);
}

/// A value with a version that only moves forward:
///   (put_atom, uint64_t version, T value) -> version_ack
///       Applied only if `version` is greater than the version held;
///       otherwise nothing changes and the answer carries the version held.
///   (get_atom) -> (uint64_t version, T value)
template <class T>
using versioned_actor = caf::typed_actor<
    typename caf::replies_to<put_atom, uint64_t, T>::template with<version_ack>,
    typename caf::replies_to<get_atom>::template with<uint64_t, T>>;

/// Options of a versioned value.
template <class T>
struct versioned_config {
  /// The value held before any put, at version 0.
  T initial{};
};

namespace detail {

template <class T>
struct versioned_state {
  static inline const char* name = "actorkit.versioned";
  uint64_t version = 0;
  T value;
  uint64_t rejected = 0;
};

template <class T>
typename versioned_actor<T>::behavior_type versioned_impl(
    typename versioned_actor<T>::template stateful_pointer<versioned_state<T>> self,
    versioned_config<T> cfg) {
  self->state.value = std::move(cfg.initial);
  return {
      [self](put_atom, uint64_t version, T& value) {
        auto& st = self->state;
        if (version <= st.version) {
          ++st.rejected;
          return version_ack{false, st.version};
        }
        st.version = version;
        st.value = std::move(value);
        return version_ack{true, version};
      },
      [self](get_atom) {
        return std::make_tuple(self->state.version, self->state.value);
      },
  };
}

} // namespace detail

/// Spawns a versioned value (no config field can be invalid).
template <class T>
versioned_actor<T> spawn_versioned(caf::actor_system& sys, versioned_config<T> cfg = {}) {
  return sys.spawn(detail::versioned_impl<T>, std::move(cfg));
}

} // namespace actorkit
