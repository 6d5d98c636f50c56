/// The unit every composition in patterns/ works on: a request to an actor
/// whose answer is one value of type T, and the options that bound it in time.
///
///   auto c = actorkit::ask<int64_t>(calculator, add_atom_v, 1, 2);
///
/// A call is a plain value: it can be built ahead of time, copied, stored and
/// sent many times. Its content is a `caf::message`, so any actor handle,
/// typed or dynamically typed, can be its target.
#pragma once

#include <chrono>
#include <memory>
#include <type_traits>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/attachable.hpp>
#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/response_promise.hpp>
#include <caf/sec.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_response_promise.hpp>

#include <actorkit/actors/error.hpp>

namespace actorkit {

template <class T>
struct is_expected : std::false_type {};

template <class T>
struct is_expected<caf::expected<T>> : std::true_type {};

/// A request to `target` with `content`, answered with one `T`. An answer of
/// any other type fails the call with `caf::sec::unexpected_response`; a null
/// target fails it with `error::invalid_config`.
template <class T>
struct call {
  using value_type = T;
  caf::actor target;
  caf::message content;
};

/// Builds a call to `target` (any actor handle) with the message `xs...`.
template <class T, class Handle, class... Ts>
call<T> ask(const Handle& target, Ts&&... xs) {
  return call<T>{caf::actor_cast<caf::actor>(target),
                 caf::make_message(std::forward<Ts>(xs)...)};
}

/// "No limit" for call_options::deadline (and timeout, where a caller really
/// wants to wait forever). Any duration of 100 years or more counts as no
/// limit too.
constexpr caf::timespan no_limit = caf::timespan::max();

/// True for `no_limit` and any duration of 100 years or more: adding those to
/// the clock's time would overflow.
constexpr bool is_no_limit(caf::timespan d) {
  return d >= std::chrono::hours(24 * 365 * 100);
}

/// Time bounds of a composition. Every request a composition sends carries a
/// timeout: `timeout` per request, clipped so that none outlives `deadline`,
/// which counts from the moment the composition starts.
///
/// A request that outlives `timeout` fails with `caf::sec::request_timeout`;
/// work cut short by `deadline` (in flight or not yet started) fails with
/// `error::deadline_exceeded`.
struct call_options {
  /// Timeout of each request; must be positive. Default: 30 s.
  caf::timespan timeout = std::chrono::seconds(30);
  /// Overall deadline from the start; must be positive. Default: none.
  caf::timespan deadline = no_limit;

  /// Sets the per-request timeout.
  call_options& with_timeout(caf::timespan x) {
    timeout = x;
    return *this;
  }

  /// Sets the overall deadline.
  call_options& with_deadline(caf::timespan x) {
    deadline = x;
    return *this;
  }
};

/// Checks `opts`: `error::invalid_config` naming the field, or no error.
inline caf::error validate(const call_options& opts) {
  if (opts.timeout <= caf::timespan::zero())
    return caf::make_error(error::invalid_config,
                           "call_options.timeout must be positive");
  if (opts.deadline <= caf::timespan::zero())
    return caf::make_error(error::invalid_config,
                           "call_options.deadline must be positive");
  return caf::none;
}

namespace detail {

template <class Promise, class T>
void deliver_value(Promise& rp, T&& x) {
  using value_type = std::decay_t<T>;
  if constexpr (is_expected<value_type>::value) {
    if (x)
      rp.deliver(std::move(*x));
    else
      rp.deliver(std::move(x.error()));
  } else {
    rp.deliver(std::forward<T>(x));
  }
}

// The promise of deliver_to(self, rp), shared by its callback and the guard
// that answers it when the actor exits first.
template <class Promise>
struct guarded_promise {
  Promise rp;
  bool open = true;
};

template <class Promise>
class promise_guard final : public caf::attachable {
public:
  static constexpr size_t token_type = 0x616b7064;

  explicit promise_guard(std::shared_ptr<guarded_promise<Promise>> p) : p_(std::move(p)) {
    // nop
  }

  void actor_exited(const caf::error& reason, caf::execution_unit*) override {
    if (!p_->open)
      return;
    p_->open = false;
    // A normal exit has no error code: the requester hears, as for a request
    // still queued at a dead actor, that the receiver went down.
    p_->rp.deliver(reason ? reason
                          : caf::make_error(caf::sec::request_receiver_down,
                                            "the actor exited before answering"));
  }

  bool matches(const token& what) override {
    return what.subtype == token_type && what.ptr == p_.get();
  }

private:
  std::shared_ptr<guarded_promise<Promise>> p_;
};

} // namespace detail

/// Adapts a response promise into a completion callback for the
/// compositions: a value is delivered as is, a `caf::expected` as its value
/// or its error. Works with `caf::response_promise` and
/// `caf::typed_response_promise<...>`:
///
///   [=](run_atom) -> caf::result<std::vector<int64_t>> {
///     auto rp = self->make_response_promise<std::vector<int64_t>>();
///     actorkit::all(self, calls, actorkit::deliver_to(self, rp));
///     return rp;
///   }
///
/// With `self`, the promise is answered with the actor's exit reason
/// (`caf::sec::request_receiver_down` for a normal exit) if the actor exits
/// before the composition completes: CAF 0.17 answers no open promise of a
/// dying actor, so without it the requester would hear only from its own
/// request timeout. The cost: two allocations and an attachable on the actor
/// per composition, and completing one detaches it, which scans the actor's
/// attachables (its monitors and pending guards). That suits tens of
/// compositions in flight per actor; for thousands, use the one-argument
/// form and a request timeout. Hand the callback to a composition (or call
/// it): until it runs, the actor keeps the promise and the guard.
template <class Self, class Promise>
auto deliver_to(Self* self, Promise rp) {
  using guard = detail::promise_guard<Promise>;
  auto p = std::make_shared<detail::guarded_promise<Promise>>();
  p->rp = std::move(rp);
  self->attach(std::make_unique<guard>(p));
  return [self, p](auto&& x) {
    if (!p->open)
      return;
    p->open = false;
    self->detach(caf::attachable::token{guard::token_type, p.get()});
    detail::deliver_value(p->rp, std::forward<decltype(x)>(x));
  };
}

/// The same without the exit guard: if the actor dies first, the promise
/// dies unanswered.
template <class Promise>
auto deliver_to(Promise rp) {
  return
      [rp](auto&& x) mutable { detail::deliver_value(rp, std::forward<decltype(x)>(x)); };
}

} // namespace actorkit
