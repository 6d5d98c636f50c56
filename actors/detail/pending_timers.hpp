/// The CAF timers a component has pending, for components that keep one
/// timer for their earliest deadline. CAF's timers cannot be cancelled, so a
/// component adds one only for a deadline before every pending one, and each
/// timer message carries its fire time (its stamp) to be matched when it
/// arrives: a few timers are pending at most, never one per waiting request.
#pragma once

#include <cstdint>
#include <set>

#include <caf/actor_clock.hpp>

namespace actorkit::detail {

class pending_timers {
public:
  using time_point = caf::actor_clock::time_point;

  /// True if a timer firing at `next` must be scheduled (it is then counted
  /// as pending); false if a pending one comes at or before it, or if `next`
  /// is `time_point::max()` (no deadline).
  bool need(time_point next) {
    if (next == time_point::max() || (!at_.empty() && *at_.begin() <= next))
      return false;
    at_.insert(next);
    return true;
  }

  /// What a timer message firing at `x` carries.
  static uint64_t stamp(time_point x) {
    return static_cast<uint64_t>(x.time_since_epoch().count());
  }

  /// The timer message with `stamp` arrived at `now`. False if it is no
  /// pending timer's (a spoofed or forgotten one): it then changes nothing.
  /// Entries already due are forgotten too, so that a timer message that
  /// went missing can never keep the component from arming again.
  bool fired(uint64_t stamp, time_point now) {
    auto i = at_.find(time_point{time_point::duration{stamp}});
    if (i == at_.end())
      return false;
    at_.erase(i);
    at_.erase(at_.begin(), at_.upper_bound(now));
    return true;
  }

  /// The timer for `x` was never set (scheduling it failed): no message
  /// will come for it.
  void forget(time_point x) {
    auto i = at_.find(x);
    if (i != at_.end())
      at_.erase(i);
  }

private:
  std::multiset<time_point> at_;
};

} // namespace actorkit::detail
