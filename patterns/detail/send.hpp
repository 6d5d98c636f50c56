// Shared machinery of the compositions: the clock budget (timeout clipped by
// the deadline) and sending one call with its handlers.
#pragma once

#include <algorithm>
#include <utility>

#include <caf/actor_clock.hpp>
#include <caf/duration.hpp>
#include <caf/sec.hpp>

#include <actorkit/patterns/call.hpp>

namespace actorkit::detail {

/// The time bounds of one running composition.
struct budget {
  caf::timespan timeout;
  bool bounded = false;
  caf::actor_clock::time_point deadline_at;

  template <class Self>
  static budget start(Self* self, const call_options& opts) {
    budget b;
    b.timeout = opts.timeout;
    if (!is_no_limit(opts.deadline)) {
      b.bounded = true;
      b.deadline_at = self->clock().now() + opts.deadline;
    }
    return b;
  }

  /// Timeout for a request sent at `now`; zero or less once the deadline passed.
  caf::timespan effective(caf::actor_clock::time_point now) const {
    if (!bounded)
      return timeout;
    auto left = std::chrono::duration_cast<caf::timespan>(deadline_at - now);
    return std::min(timeout, left);
  }

  /// A timeout at or past the deadline is reported as deadline_exceeded.
  caf::error classify(caf::error err, caf::actor_clock::time_point now) const {
    if (bounded && now >= deadline_at && err == caf::sec::request_timeout)
      return caf::make_error(error::deadline_exceeded);
    return err;
  }
};

inline caf::duration to_duration(caf::timespan x) {
  if (is_no_limit(x))
    return caf::duration{caf::infinite};
  return caf::duration{x};
}

/// A target that answers an empty `caf::error` ("no error") did not answer
/// with the value asked for.
inline caf::error non_empty(caf::error err) {
  if (!err)
    return caf::make_error(caf::sec::unexpected_response,
                           "the target answered an empty error");
  return err;
}

/// Sends `c` from `self`; exactly one of `ok(T&&)` or `fail(caf::error&&)`
/// runs, possibly before this function returns (null target, deadline passed).
template <class T, class Self, class Ok, class Fail>
void send(Self* self, const call<T>& c, const budget& b, Ok ok, Fail fail) {
  if (!c.target) {
    fail(caf::make_error(error::invalid_config, "call target is null"));
    return;
  }
  if (!b.bounded) {
    // No deadline: no clock reads, no classification.
    self->request(c.target, to_duration(b.timeout), c.content)
        .then([ok{std::move(ok)}](T& x) mutable { ok(std::move(x)); },
              [fail{std::move(fail)}](caf::error& err) mutable {
                fail(non_empty(std::move(err)));
              });
    return;
  }
  auto timeout = b.effective(self->clock().now());
  if (timeout <= caf::timespan::zero()) {
    fail(caf::make_error(error::deadline_exceeded));
    return;
  }
  self->request(c.target, to_duration(timeout), c.content)
      .then([ok{std::move(ok)}](T& x) mutable { ok(std::move(x)); },
            [self, b, fail{std::move(fail)}](caf::error& err) mutable {
              fail(b.classify(non_empty(std::move(err)), self->clock().now()));
            });
}

} // namespace actorkit::detail
