/// Timer messages that do not keep their receiver alive. CAF's clock holds
/// the receiver of a delayed message (and its sender) strongly, so an actor
/// with a timer pending outlives its last handle until the timer fires, and
/// the actor system's shutdown waits for it: an idle mutex with a one-hour
/// `max_hold` timer would hold up the program's exit for up to an hour.
/// A weak_timer sends its messages, without a sender, to a hidden relay that
/// holds the receiver weakly and passes them on while it lives; the relay
/// goes away with the receiver's state and its own last pending message.
#pragma once

#include <cstdint>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
#include <caf/timespan.hpp>

namespace actorkit::detail {

/// A hidden relay's behavior: passes `(Atom, x)` on to `target` while it
/// lives, and quits once it is gone.
template <class Atom>
caf::behavior weak_relay(caf::event_based_actor* self, caf::actor_addr target) {
  return {[self, target](Atom a, uint64_t x) {
    if (auto hdl = caf::actor_cast<caf::actor>(target))
      self->send(hdl, a, x);
    else
      self->quit();
  }};
}

template <class Atom>
class weak_timer {
public:
  /// Sends `(Atom, x)` to `self` after `delay`.
  template <class Self>
  void send(Self* self, caf::timespan delay, uint64_t x) {
    if (!relay_)
      relay_ =
          self->system().template spawn<caf::hidden>(weak_relay<Atom>, self->address());
    caf::delayed_anon_send(relay_, delay, Atom{}, x);
  }

  /// True if `sender` is this timer's relay: a timer message from anyone
  /// else is forged.
  bool sent(const caf::strong_actor_ptr& sender) const {
    return sender && relay_ &&
           sender.get() == caf::actor_cast<caf::actor_control_block*>(relay_);
  }

private:
  caf::actor relay_;
};

} // namespace actorkit::detail
