/// The subscriber list behind every actorkit actor's (subscribe_atom, who)
/// and (unsubscribe_atom, who): actors told about state changes as plain
/// messages.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <caf/abstract_actor.hpp>
#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/error.hpp>

#include <actorkit/actors/error.hpp>

namespace actorkit::detail {

/// True if `hdl` is null or its actor has terminated.
inline bool is_terminated(const caf::actor& hdl) {
  // actor_cast of a null handle is not null: test the handle first.
  if (!hdl)
    return true;
  return caf::actor_cast<caf::abstract_actor*>(hdl)->getf(
      caf::abstract_actor::is_terminated_flag);
}

/// Subscribers held weakly: a subscriber is neither monitored nor kept alive
/// (a subscriber may also be a worker or a holder the component monitors, and
/// CAF's demonitor removes every monitor of the same pair; a component and a
/// subscriber holding each other must not keep each other alive). Dead ones
/// are dropped on the next add or publish. At most `capacity`.
class subscriber_list {
public:
  explicit subscriber_list(size_t capacity = 1) : capacity_(capacity) {}

  /// Adds `who` (again: no change). `error::invalid_config` for a null
  /// handle, `error::overloaded` when `capacity` live subscribers exist;
  /// `component` names the owner in the error.
  caf::error add(const caf::actor& who, const char* component) {
    drop_dead();
    auto addr = who.address();
    if (!addr)
      return caf::make_error(error::invalid_config,
                             std::string{component} + ": null subscriber");
    if (std::find(xs_.begin(), xs_.end(), addr) != xs_.end())
      return caf::none;
    if (xs_.size() >= capacity_)
      return caf::make_error(error::overloaded,
                             std::string{component} + ": too many subscribers");
    xs_.push_back(std::move(addr));
    return caf::none;
  }

  void remove(const caf::actor& who) {
    auto addr = who.address();
    xs_.erase(std::remove(xs_.begin(), xs_.end(), addr), xs_.end());
  }

  /// Calls `f(caf::actor)` for each live subscriber.
  template <class F>
  void for_each(F f) {
    drop_dead();
    for (auto& addr : xs_)
      if (auto hdl = caf::actor_cast<caf::actor>(addr))
        f(hdl);
  }

  bool empty() {
    drop_dead();
    return xs_.empty();
  }

  void clear() { xs_.clear(); }

private:
  void drop_dead() {
    xs_.erase(std::remove_if(xs_.begin(), xs_.end(),
                             [](const caf::actor_addr& x) {
                               return is_terminated(caf::actor_cast<caf::actor>(x));
                             }),
              xs_.end());
  }

  size_t capacity_;
  std::vector<caf::actor_addr> xs_;
};

} // namespace actorkit::detail
