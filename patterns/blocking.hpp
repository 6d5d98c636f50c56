/// Running a composition from blocking code (a user thread holding a
/// `caf::scoped_actor`, a test, a demo's main). Each pattern's blocking
/// overload is built on `await_result`:
///
///   caf::scoped_actor self{sys};
///   caf::expected<std::vector<int64_t>> r = actorkit::all(self, calls);
///
/// The composition runs in a short-lived helper actor; the calling thread
/// waits until it completes. Never call this from inside an event-based actor
/// (it blocks the scheduler thread); use the event-based overloads there.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include <actorkit/actors/type_ids.hpp>

namespace actorkit {

namespace detail {

template <class R>
class blocking_slot {
public:
  template <class T>
  void set(T&& x) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!value_) {
      value_.emplace(std::forward<T>(x));
      cv_.notify_all();
    }
  }

  bool is_set() {
    std::lock_guard<std::mutex> guard{mtx_};
    return value_.has_value();
  }

  R take() {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait(guard, [this] { return value_.has_value(); });
    return std::move(*value_);
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  std::optional<R> value_;
};

} // namespace detail

/// Runs `start(helper, done)` inside a new event-based helper actor and blocks
/// until `done(R)` is called, then returns that result. If the helper dies
/// before `done` runs (killed from outside, or `start` throws), the result is
/// `on_abort(exit_reason)`, so the caller never waits forever. Waits exactly
/// as long as the composition's own timeouts allow.
template <class R, class Start, class OnAbort>
R await_result(caf::scoped_actor& self, Start start, OnAbort on_abort) {
  auto slot = std::make_shared<detail::blocking_slot<R>>();
  self->spawn([slot, start{std::move(start)}, on_abort{std::move(on_abort)}](
                  caf::event_based_actor* helper) mutable -> caf::behavior {
    helper->attach_functor([slot, on_abort](const caf::error& reason) mutable {
      if (!slot->is_set())
        slot->set(on_abort(reason ? reason : caf::make_error(caf::sec::runtime_error)));
    });
    start(helper, [slot, helper](auto&& result) {
      slot->set(std::forward<decltype(result)>(result));
      helper->quit();
    });
    // Stays alive until the composition completes.
    return {[](done_atom) {}};
  });
  return slot->take();
}

/// `await_result` for compositions that answer a `caf::expected<T>`: an
/// aborted helper yields its exit reason as the error.
template <class T, class Start>
caf::expected<T> await_expected(caf::scoped_actor& self, Start start) {
  return await_result<caf::expected<T>>(self, std::move(start), [](caf::error err) {
    return caf::expected<T>{std::move(err)};
  });
}

} // namespace actorkit
