/// Run-exclusive: the lesson's `mutex.runExclusive(fn)` over the mutex actor.
///
///   with_lock<int64_t>(self, mtx,
///     [=](const lease& l, auto finish) {   // may issue its own requests
///       self->request(db, 1s, get_atom_v).then(
///         [=](int64_t v) { ...; finish(v + 1); },
///         [=](caf::error& e) { finish(std::move(e)); });
///     },
///     done);                               // done(caf::expected<int64_t>)
///
/// Acquires the lock, runs `body(lease, finish)` in the calling actor, and
/// when the body calls `finish(caf::expected<T>)` (a `T` or a `caf::error`)
/// releases the lease and then calls `done` once with the body's result.
///
/// The lock cannot leak through it:
/// - a body that fails or whose own requests time out reports the error
///   through `finish`; the lease is released either way;
/// - `lock_options::hold` limits the lease: the mutex revokes it when the body
///   runs too long and grants the next waiter; when that body finishes, `done`
///   gets `error::lease_expired` (its result was produced without the lock;
///   a body that failed has its error named in the context);
/// - if the calling actor dies (or the body throws, which kills it), the mutex
///   sees its holder die and passes the lock on; `done` never runs.
/// The acquire itself waits at most `lock_options::wait` and then fails with
/// `sec::request_timeout` without running the body. The mutex answers every
/// acquire exactly once, so the acquire request carries no timeout of its own
/// (a client-side timeout could drop a lease the mutex had already granted).
/// A mutex in another process is watched instead: when it is gone (its
/// process killed, say), a pending acquire or release fails at once with its
/// exit reason. Calls to `finish` after the first are ignored.
///
/// Caveat: `done` runs when the body calls `finish`. A body that never calls
/// it (a forgotten branch, a request sent with `caf::infinite` that is never
/// answered) still cannot keep the lock past `hold`, but its `done` never runs,
/// and the blocking overload would wait forever: give the body's own requests
/// finite timeouts and route their errors to `finish`.
#pragma once

#include <memory>
#include <utility>

#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>

#include <actorkit/actors/error.hpp>
#include <actorkit/actors/mutex.hpp>
#include <actorkit/patterns/blocking.hpp>
#include <actorkit/patterns/call.hpp>
#include <actorkit/patterns/detail/send.hpp>

namespace actorkit {

/// Time bounds of one with_lock.
struct lock_options {
  /// Longest wait for the lock (`no_limit`: until granted); not negative.
  caf::timespan wait = no_limit;
  /// Longest time the lock may be held (`no_limit`: only the mutex's
  /// max_hold applies); positive.
  caf::timespan hold = no_limit;

  lock_options& with_wait(caf::timespan x) {
    wait = x;
    return *this;
  }

  lock_options& with_hold(caf::timespan x) {
    hold = x;
    return *this;
  }
};

/// Runs `body` under `mtx`; see the header comment. `done(caf::expected<T>)`
/// runs exactly once unless the calling actor dies.
template <class T, class Self, class Body, class Done>
void with_lock(Self* self, const mutex_actor& mtx, Body body, Done done,
               lock_options opts = {}) {
  if (detail::refuse_empty_done(done, "with_lock"))
    return;
  using result_t = caf::expected<T>;
  if (!mtx) {
    done(result_t{caf::make_error(error::invalid_config, "with_lock: mutex is null")});
    return;
  }
  if (opts.wait < caf::timespan::zero() || opts.hold <= caf::timespan::zero()) {
    done(result_t{caf::make_error(error::invalid_config,
                                  "lock_options.wait must not be negative and "
                                  "lock_options.hold must be positive")});
    return;
  }
  if (detail::is_empty_fn(body)) {
    done(result_t{caf::make_error(error::invalid_config, "with_lock: empty body")});
    return;
  }
  auto shared_done = std::make_shared<Done>(std::move(done));
  auto acquire = self->request(mtx, caf::infinite, acquire_atom_v, opts.wait, opts.hold);
  auto acquired = detail::watch(self, mtx, acquire.id());
  acquire.then(
      [self, mtx, shared_done, acquired, body{std::move(body)}](lease l) mutable {
        acquired();
        auto finished = std::make_shared<bool>(false);
        auto finish = [self, mtx, shared_done, finished, l](result_t result) {
          if (*finished)
            return;
          *finished = true;
          if (!result && !result.error())
            result = caf::make_error(caf::sec::runtime_error,
                                     "with_lock: the body finished with an empty error");
          auto r = std::make_shared<result_t>(std::move(result));
          auto release = self->request(mtx, caf::infinite, release_atom_v, l);
          auto released = detail::watch(self, mtx, release.id());
          release.then(
              [shared_done, r, released]() {
                released();
                (*shared_done)(std::move(*r));
              },
              [shared_done, r, released](caf::error& err) {
                released();
                if (*r) {
                  (*shared_done)(result_t{std::move(err)});
                } else if (err == error::lease_expired) {
                  // The body failed, but after it lost the lock:
                  // say so, and keep its error as the context.
                  (*shared_done)(result_t{caf::make_error(
                      error::lease_expired,
                      "with_lock: the body failed after its lease expired: " +
                          to_string(r->error()))});
                } else {
                  (*shared_done)(std::move(*r));
                }
              });
        };
        body(static_cast<const lease&>(l), std::move(finish));
      },
      [shared_done, acquired](caf::error& err) {
        acquired();
        (*shared_done)(result_t{std::move(err)});
      });
}

/// Blocking overload for user threads: returns the body's result once the
/// lock is released. The body is called as `body(helper, lease, finish)`:
/// it runs in a short-lived helper actor, which is the lease holder and sends
/// the body's requests. Never call it from inside an event-based actor.
template <class T, class Body>
caf::expected<T> with_lock(caf::scoped_actor& self, const mutex_actor& mtx, Body body,
                           lock_options opts = {}) {
  // The wrapper below is never empty: an empty body is refused before.
  if (detail::is_empty_fn(body))
    return caf::make_error(error::invalid_config, "with_lock: empty body");
  return await_expected<T>(self, [mtx, body, opts](auto* helper, auto done) mutable {
    auto wrapped = [helper, body](const lease& l, auto finish) mutable {
      body(helper, l, std::move(finish));
    };
    with_lock<T>(helper, mtx, std::move(wrapped), std::move(done), opts);
  });
}

} // namespace actorkit
