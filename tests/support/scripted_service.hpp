/// A scripted service actor: the test double that stands in for any remote
/// service (the lesson's vi.fn() mocks, done as an actor). It answers
///
///   (ask_atom, int64_t x)      -> int64_t      value: config.int_fn(x)
///   (ask_atom, std::string x)  -> std::string  value: config.string_fn(x)
///   (stats_atom)               -> (calls, in_flight, max_in_flight) as uint64_t
///   (reset_atom)               -> void         resets the counters
///
/// and each ask follows one scripted `reaction`: answer after a latency, fail
/// with an error after a latency, never answer, or die. Reactions come from
/// `script` by call index (0-based), then `by_input` (int asks), then
/// `otherwise`. Latencies use CAF's clock (delayed_send), so they follow
/// virtual time under the test coordinator.
///
/// Every parked request is answered when the service exits (with the exit
/// reason), so a caller never waits forever on a dead double. The counters
/// are readable from any thread through `scripted_service::counters`.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/timespan.hpp>

#include <actorkit/actors/type_ids.hpp>

namespace actorkit::testing {

/// What the service does with one ask.
struct reaction {
  enum kind_t { reply, fail, hang, die };
  kind_t kind = reply;
  /// Delay before replying, failing or dying (ignored for hang).
  caf::timespan latency = caf::timespan::zero();
  /// The error delivered (fail) or the exit reason (die).
  caf::error err;

  static reaction reply_after(caf::timespan latency) { return {reply, latency, {}}; }
  static reaction fail_with(caf::error e, caf::timespan latency = caf::timespan::zero()) {
    return {fail, latency, std::move(e)};
  }
  static reaction never() { return {hang, caf::timespan::zero(), {}}; }
  static reaction die_with(caf::error reason,
                           caf::timespan latency = caf::timespan::zero()) {
    return {die, latency, std::move(reason)};
  }
};

struct service_counters;

/// Spawn-time configuration of a scripted service.
struct scripted_service_config {
  /// Reaction of call i, for i < script.size().
  std::vector<reaction> script;
  /// Reaction chosen by the int input, for calls past the script.
  std::function<reaction(int64_t)> by_input;
  /// Reaction of every other call.
  reaction otherwise = reaction::reply_after(caf::timespan::zero());
  /// The value answered to (ask_atom, x).
  std::function<int64_t(int64_t)> int_fn = [](int64_t x) { return x; };
  /// The value answered to (ask_atom, s).
  std::function<std::string(const std::string&)> string_fn = [](const std::string& s) {
    return s;
  };
  /// Called in the service after the counters count each ask (a spy hook:
  /// demos print progress with it, tests record arrivals).
  std::function<void(const service_counters&)> on_call;
  /// At most this many requests parked at once; beyond it asks are answered
  /// `error::overloaded`.
  size_t max_parked = 100000;
};

/// Counters of a scripted service, updated by the service, readable anywhere.
struct service_counters {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> in_flight{0};
  std::atomic<uint64_t> max_in_flight{0};
  std::atomic<uint64_t> replied{0};
  std::atomic<uint64_t> failed{0};
};

/// A running scripted service: its handle and its counters.
struct scripted_service {
  caf::actor actor;
  std::shared_ptr<const service_counters> counters;
};

/// Spawns a scripted service in `sys`.
scripted_service spawn_scripted_service(caf::actor_system& sys,
                                        scripted_service_config cfg = {});

/// A service answering every ask with `fn(x)` after `latency`.
scripted_service spawn_echo_service(
    caf::actor_system& sys, caf::timespan latency,
    std::function<int64_t(int64_t)> fn = [](int64_t x) { return x; });

} // namespace actorkit::testing
