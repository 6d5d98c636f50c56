/// A mutex as a serializing actor: the lesson's promise `Mutex`
/// (acquire / release / runExclusive), without its failure modes. A holder
/// that dies releases the lock, a holder that keeps it too long loses it, and
/// every grant carries a fencing token so that a resource can reject a stale
/// holder.
///
///   auto m = actorkit::spawn_mutex(sys, {});              // expected<mutex_actor>
///   self->request(*m, caf::infinite, acquire_atom_v, wait, hold)
///     .then([=](lease l) { ...; self->send(*m, release_atom_v, l); });
///
/// `wait` is the only timeout an acquire needs: the mutex answers
/// `sec::request_timeout` when it is over. A shorter timeout on the request
/// itself would let the caller give up while it still waits in the queue;
/// granted later, it would hold a lease it never learns of (until its hold
/// limit, or its death, frees the lock).
///
/// patterns/with_lock.hpp runs an async operation under the lock and always
/// releases it.
///
/// Protocol (answers in brackets):
///   (acquire_atom, timespan wait, timespan hold) -> lease
///       Queued FIFO behind the holder and earlier waiters. A waiter not
///       granted within `wait` (`no_limit`, or 100 years or more: forever) is answered
///       `sec::request_timeout` and removed; it is never granted afterwards,
///       not even when the lock frees up before its timer message is handled.
///       `hold` limits this lease (`no_limit`: only config.max_hold applies).
///       A full queue answers `error::overloaded`.
///   (try_acquire_atom) -> lease
///       The lease at once, or `sec::request_timeout` at once if the lock is
///       held (an acquire that does not wait).
///   (release_atom, lease) -> void
///       Releases the current lease and grants the next waiter. A lease that
///       was revoked for exceeding its hold time: `error::lease_expired`. A
///       foreign, stale or already released lease, or one of another mutex:
///       `error::not_owner`, and nothing changes.
///   (stats_atom) -> mutex_stats
///   (subscribe_atom, caf::actor who) -> void
///       `who` gets a `mutex_event` (a plain message from the mutex) whenever
///       a lease is revoked or its holder dies. Subscribers are held weakly
///       (neither monitored nor kept alive) and dead ones are dropped; at
///       most config.max_subscribers, beyond that `error::overloaded`. A null
///       `who`: `error::invalid_config`. Subscribing twice changes nothing.
///   (unsubscribe_atom, caf::actor who) -> void
///   (expire_atom, n): the mutex's own timer, for the earliest wait or hold
///       deadline (another is added only for a deadline before every pending
///       one: with waits of equal length, two are pending at most); from
///       anyone else it changes nothing.
///
/// The lock is not reentrant: a holder that acquires again waits behind
/// itself (until its wait timeout). The holder is the actor that sent the
/// acquire. The mutex monitors it: when
/// it dies holding the lock, the lock passes to the next waiter (logged at
/// info on "actorkit.mutex"); a waiter that dies is dropped from the queue.
/// When the mutex itself exits, every waiter is answered `error::shut_down`.
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include <actorkit/actors/type_ids.hpp>
#include <actorkit/patterns/call.hpp>

namespace actorkit {

/// A grant of the lock. Tokens grow by one with every grant of one mutex
/// (the first is 1), so a resource that remembers the highest token it has
/// seen can refuse writes carrying a lower one (fencing).
struct lease {
  /// Fencing token; 0 never denotes a grant.
  uint64_t token = 0;
  /// The actor the lease was granted to.
  caf::actor_addr holder;
  /// The mutex that granted it: tokens count per mutex, so a lease of
  /// another mutex is told apart by this.
  caf::actor_addr mutex;
};

inline bool operator==(const lease& x, const lease& y) {
  return x.token == y.token && x.holder == y.holder && x.mutex == y.mutex;
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease& x) {
  return f(caf::meta::type_name("lease"), x.token, x.holder, x.mutex);
}

/// A snapshot of a mutex.
struct mutex_stats {
  /// The current holder (invalid when free).
  caf::actor_addr holder;
  /// Token of the current lease (0 when free).
  uint64_t token = 0;
  /// Waiters in the queue.
  uint64_t queued = 0;
  /// Leases granted so far.
  uint64_t grants = 0;
  /// Leases released by their holder.
  uint64_t releases = 0;
  /// Leases revoked for exceeding their hold time.
  uint64_t expiries = 0;
  /// Leases released because their holder died.
  uint64_t releases_by_death = 0;
  /// Waiters answered `sec::request_timeout` (acquire and try_acquire).
  uint64_t wait_timeouts = 0;
  /// Waiters dropped because they died.
  uint64_t dead_waiters = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mutex_stats& x) {
  return f(caf::meta::type_name("mutex_stats"), x.holder, x.token, x.queued, x.grants,
           x.releases, x.expiries, x.releases_by_death, x.wait_timeouts, x.dead_waiters);
}

/// What changed in a mutex; see mutex_event.
enum class lock_event : uint8_t {
  /// Lease `token` ran past its hold time and was revoked.
  lease_revoked,
  /// The holder of lease `token` died (`reason` is its exit reason).
  holder_died,
};

/// The name of `x`, e.g. "lease_revoked".
const char* to_string(lock_event x);

/// A mutex's message to its subscribers, sent after the lock passed on.
struct mutex_event {
  lock_event kind = lock_event::lease_revoked;
  /// The lease that ended.
  uint64_t token = 0;
  /// Its holder.
  caf::actor_addr holder;
  /// The lease granted in its place (0 if the lock is free now).
  uint64_t next_token = 0;
  /// Waiters still queued.
  uint64_t queued = 0;
  /// The holder's exit reason, rendered (holder_died only).
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, mutex_event& x) {
  return f(caf::meta::type_name("mutex_event"), x.kind, x.token, x.holder, x.next_token,
           x.queued, x.reason);
}

/// The mutex's typed interface.
using mutex_actor = caf::typed_actor<
    caf::replies_to<acquire_atom, caf::timespan, caf::timespan>::with<lease>,
    caf::replies_to<try_acquire_atom>::with<lease>, caf::reacts_to<release_atom, lease>,
    caf::replies_to<stats_atom>::with<mutex_stats>, caf::reacts_to<expire_atom, uint64_t>,
    caf::reacts_to<subscribe_atom, caf::actor>,
    caf::reacts_to<unsubscribe_atom, caf::actor>>;

/// Options of a mutex.
struct mutex_config {
  /// Longest time any lease may be held before it is revoked; positive, or
  /// `no_limit` (the default) for none.
  caf::timespan max_hold = no_limit;
  /// Most waiters queued at once; must be positive. Beyond it an acquire is
  /// answered `error::overloaded`.
  size_t max_waiters = 10000;
  /// How many revoked tokens are remembered to answer their late release with
  /// `error::lease_expired` (older ones get `error::not_owner`); positive.
  size_t expired_memory = 1024;
  /// Actors the mutex keeps monitoring after they release, so that a client
  /// that acquires again costs no new monitor; positive.
  size_t monitor_cache = 256;
  /// Subscribers (subscribe_atom) at most; positive. Further ones are
  /// answered `error::overloaded`.
  size_t max_subscribers = 16;
};

/// Checks `cfg`: `error::invalid_config` naming the field, or no error.
caf::error validate(const mutex_config& cfg);

/// Spawns a mutex; a bad config is refused with `error::invalid_config`.
caf::expected<mutex_actor> spawn_mutex(caf::actor_system& sys, mutex_config cfg = {});

} // namespace actorkit
