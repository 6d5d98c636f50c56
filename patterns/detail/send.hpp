// Shared machinery of the compositions: the clock budget (timeout clipped by
// the deadline) and sending one call with its handlers.
#pragma once

#include <algorithm>
#include <memory>
#include <type_traits>
#include <utility>

#include <caf/abstract_actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/attachable.hpp>
#include <caf/duration.hpp>
#include <caf/make_message.hpp>
#include <caf/message_id.hpp>
#include <caf/sec.hpp>

#include <actorkit/actors/log.hpp>
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

/// True for a callable that holds nothing (an empty `std::function`, a null
/// function pointer): calling it would throw or crash.
template <class F>
bool is_empty_fn(const F& f) {
  if constexpr (std::is_constructible_v<bool, const F&>)
    return !static_cast<bool>(f);
  else
    return false;
}

/// True, after logging an error on "actorkit.patterns", for an empty `done`
/// callback: there is nobody to answer, so `what` starts nothing. (Calling
/// it later would throw inside a reply handler and stop the calling actor.)
template <class Done>
bool refuse_empty_done(const Done& done, const char* what) {
  if (!is_empty_fn(done))
    return false;
  log::get("patterns")
      ->error("{}: the done callback is empty; nothing was started", what);
  return true;
}

/// A target that answers an empty `caf::error` ("no error") did not answer
/// with the value asked for.
inline caf::error non_empty(caf::error err) {
  if (!err)
    return caf::make_error(caf::sec::unexpected_response,
                           "the target answered an empty error");
  return err;
}

/// Answers one request to a remote target with the target's exit reason the
/// moment CAF learns that the target is gone: CAF drops a request sent to a
/// dead remote actor without a bounce and never answers the requests a lost
/// process held, so the requester would otherwise hear only from the
/// request's timeout. The answer goes the way CAF's own request timeout does:
/// an error response to the request's ID, of which the requester takes the
/// first and drops the rest.
class target_watch final : public caf::attachable {
public:
  static constexpr size_t token_type = 0x616b7477;

  /// Identifies one watch: the requester and the ID its answer must carry
  /// (a response ID, as `response_handle::id()` gives it).
  struct key {
    caf::actor_addr requester;
    caf::message_id mid;
  };

  explicit target_watch(key k) : key_(std::move(k)) {
    // nop
  }

  /// True on a thread while it attaches a watch: a target that is gone
  /// already runs actor_exited from inside attach.
  static bool& attaching() {
    static thread_local bool flag = false;
    return flag;
  }

  void actor_exited(const caf::error& reason, caf::execution_unit* host) override {
    // A target that exits normally after the request was sent behaves as a
    // local one: its node bounces the requests still queued, and one it
    // passed on (delegate) is still answered, so nothing is lost to the
    // network; the call's timeout covers a request it dropped. A target
    // that was gone before the call, or is lost (killed, its connection
    // down), never answers: the call fails now.
    if (!reason && !attaching())
      return;
    auto hdl = caf::actor_cast<caf::strong_actor_ptr>(key_.requester);
    if (!hdl)
      return;
    auto err = reason ? reason
                      : caf::make_error(caf::sec::request_receiver_down,
                                        "the target exited before the call");
    // Not response_id() on it: for an ID that is a response already, that is
    // a plain asynchronous ID, and the requester would take the error for an
    // unhandled message (which stops an event-based actor).
    hdl->enqueue(nullptr, key_.mid, caf::make_message(std::move(err)), host);
  }

  bool matches(const token& what) override {
    if (what.subtype != token_type)
      return false;
    auto& k = *static_cast<const key*>(what.ptr);
    return k.mid == key_.mid && k.requester == key_.requester;
  }

private:
  key key_;
};

/// Sits on the requester while one of its requests is watched: when the
/// requester dies before the answer, it takes the watch off the target, which
/// would otherwise stay attached until the target itself exits.
class requester_watch final : public caf::attachable {
public:
  static constexpr size_t token_type = 0x616b7472;

  requester_watch(caf::actor_addr target, target_watch::key k)
      : target_(std::move(target)), key_(std::move(k)) {
    // nop
  }

  void actor_exited(const caf::error&, caf::execution_unit*) override {
    if (auto hdl = caf::actor_cast<caf::strong_actor_ptr>(target_))
      hdl->get()->detach(caf::attachable::token{target_watch::token_type, &key_});
  }

  bool matches(const token& what) override {
    if (what.subtype != token_type)
      return false;
    auto& k = *static_cast<const target_watch::key*>(what.ptr);
    return k.mid == key_.mid && k.requester == key_.requester;
  }

private:
  caf::actor_addr target_;
  target_watch::key key_;
};

/// Ends the watch of one request (see watch); nothing to do for a local
/// target. Call it from the request's handlers, which run in the requester.
class unwatch {
public:
  unwatch() = default;

  unwatch(caf::actor target, caf::abstract_actor* requester, target_watch::key k)
      : target_(std::move(target)), requester_(requester), key_(std::move(k)) {
    // nop
  }

  void operator()() const {
    if (!target_)
      return;
    caf::actor_cast<caf::abstract_actor*>(target_)->detach(
        caf::attachable::token{target_watch::token_type, &key_});
    requester_->detach(caf::attachable::token{requester_watch::token_type, &key_});
  }

private:
  caf::actor target_;
  caf::abstract_actor* requester_ = nullptr;
  target_watch::key key_;
};

/// Watches the request `mid` that `self` just sent to `target` if the target
/// lives in another process (target_watch); local targets cost nothing more.
template <class Self, class Handle>
unwatch watch(Self* self, const Handle& target, caf::message_id mid) {
  // `mid` is a response handle's ID: the response ID of the request.
  if (!mid.is_response())
    mid = mid.response_id();
  auto* ctrl = caf::actor_cast<caf::actor_control_block*>(target);
  if (ctrl->node() == self->ctrl()->node())
    return {};
  target_watch::key k{self->address(), mid};
  self->attach(std::make_unique<requester_watch>(ctrl->get()->address(), k));
  // A target that is gone already answers at once, from inside attach.
  struct attaching_scope {
    attaching_scope() { target_watch::attaching() = true; }
    ~attaching_scope() { target_watch::attaching() = false; }
  } scope;
  ctrl->get()->attach(std::make_unique<target_watch>(k));
  return {caf::actor_cast<caf::actor>(target), self, std::move(k)};
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
    auto hdl = self->request(c.target, to_duration(b.timeout), c.content);
    auto done = watch(self, c.target, hdl.id());
    hdl.then(
        [done, ok{std::move(ok)}](T& x) mutable {
          done();
          ok(std::move(x));
        },
        [done, fail{std::move(fail)}](caf::error& err) mutable {
          done();
          fail(non_empty(std::move(err)));
        });
    return;
  }
  auto timeout = b.effective(self->clock().now());
  if (timeout <= caf::timespan::zero()) {
    fail(caf::make_error(error::deadline_exceeded));
    return;
  }
  auto hdl = self->request(c.target, to_duration(timeout), c.content);
  auto done = watch(self, c.target, hdl.id());
  hdl.then(
      [done, ok{std::move(ok)}](T& x) mutable {
        done();
        ok(std::move(x));
      },
      [self, b, done, fail{std::move(fail)}](caf::error& err) mutable {
        done();
        fail(b.classify(non_empty(std::move(err)), self->clock().now()));
      });
}

} // namespace actorkit::detail
