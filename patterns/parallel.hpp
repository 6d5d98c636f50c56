/// Parallel compositions over request/response, the stand-ins for
/// Promise.all, Promise.allSettled, Promise.any and Promise.race.
///
///   all(self, calls, done)          done(caf::expected<std::vector<T>>)
///   all_settled(self, calls, done)  done(std::vector<caf::expected<T>>)
///   any(self, calls, done)          done(caf::expected<T>)
///   race(self, calls, done)         done(caf::expected<T>)
///
/// `self` is any event-based actor (dynamically typed, typed or stateful);
/// every call is sent at once. Use `deliver_to(self, rp)` as `done` to
/// answer through a response promise. Each also has a blocking overload taking a
/// `caf::scoped_actor&` and returning the result (see blocking.hpp).
///
/// Semantics shared by all four:
/// - `done` runs exactly once, in `self`'s context; it may run before the
///   function returns (empty input, invalid options, null targets).
/// - Results keep input order, whatever the order of completion.
/// - Replies arriving after completion are dropped silently.
/// - Every request carries `opts.timeout`, clipped by `opts.deadline`.
///   Invalid options complete at once with `error::invalid_config`.
/// - If `self` dies mid-way, its pending handlers die with it: `done` never
///   runs, nothing leaks, late replies go nowhere.
#pragma once

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>

#include <actorkit/actors/error.hpp>
#include <actorkit/patterns/blocking.hpp>
#include <actorkit/patterns/call.hpp>
#include <actorkit/patterns/detail/send.hpp>

namespace actorkit {

/// Promise.all: every call succeeds, or the first error wins (fail fast).
/// Completes with the values in input order; `all([])` completes with `[]`.
/// After the first error, the remaining replies are ignored.
template <class T, class Self, class Done>
void all(Self* self, const std::vector<call<T>>& calls, Done done,
         call_options opts = {}) {
  static_assert(std::is_default_constructible<T>::value,
                "all<T> needs a default-constructible T");
  if (detail::refuse_empty_done(done, "all"))
    return;
  if (auto err = validate(opts)) {
    done(caf::expected<std::vector<T>>{std::move(err)});
    return;
  }
  if (calls.empty()) {
    done(caf::expected<std::vector<T>>{std::vector<T>{}});
    return;
  }
  struct state {
    std::vector<T> results;
    size_t pending;
    bool finished = false;
    Done done;
  };
  auto st = std::make_shared<state>(
      state{std::vector<T>(calls.size()), calls.size(), false, std::move(done)});
  auto b = detail::budget::start(self, opts);
  for (size_t i = 0; i < calls.size() && !st->finished; ++i) {
    detail::send(
        self, calls[i], b,
        [st, i](T&& x) {
          if (st->finished)
            return;
          st->results[i] = std::move(x);
          if (--st->pending == 0) {
            st->finished = true;
            st->done(caf::expected<std::vector<T>>{std::move(st->results)});
          }
        },
        [st](caf::error&& err) {
          if (st->finished)
            return;
          st->finished = true;
          st->done(caf::expected<std::vector<T>>{std::move(err)});
        });
  }
}

/// Promise.allSettled: one `caf::expected<T>` per call, in input order; never
/// fails. Errors include timeouts (`caf::sec::request_timeout`), a dead target
/// (`caf::sec::request_receiver_down`) and `error::deadline_exceeded`. With
/// invalid options every element holds the `error::invalid_config` (with no
/// calls there is no element to hold it: the result is empty).
template <class T, class Self, class Done>
void all_settled(Self* self, const std::vector<call<T>>& calls, Done done,
                 call_options opts = {}) {
  if (detail::refuse_empty_done(done, "all_settled"))
    return;
  using result_vector = std::vector<caf::expected<T>>;
  if (auto err = validate(opts)) {
    done(result_vector(calls.size(), caf::expected<T>{err}));
    return;
  }
  if (calls.empty()) {
    done(result_vector{});
    return;
  }
  struct state {
    result_vector results;
    size_t pending;
    Done done;
    void settle(size_t i, T&& x) {
      results[i] = std::move(x);
      settled();
    }
    void settle(size_t i, caf::error&& err) {
      results[i] = std::move(err);
      settled();
    }
    void settled() {
      if (--pending == 0)
        done(std::move(results));
    }
  };
  auto st = std::make_shared<state>(
      state{result_vector(calls.size(), caf::expected<T>{caf::error{}}), calls.size(),
            std::move(done)});
  auto b = detail::budget::start(self, opts);
  for (size_t i = 0; i < calls.size(); ++i)
    detail::send(
        self, calls[i], b, [st, i](T&& x) { st->settle(i, std::move(x)); },
        [st, i](caf::error&& err) { st->settle(i, std::move(err)); });
}

/// Promise.any: the first success wins. If every call fails, completes with
/// `error::all_failed` carrying every cause in input order (read them with
/// `actorkit::causes(err)`); `any([])` is `all_failed` with no causes.
template <class T, class Self, class Done>
void any(Self* self, const std::vector<call<T>>& calls, Done done,
         call_options opts = {}) {
  if (detail::refuse_empty_done(done, "any"))
    return;
  if (auto err = validate(opts)) {
    done(caf::expected<T>{std::move(err)});
    return;
  }
  if (calls.empty()) {
    done(caf::expected<T>{caf::make_error(error::all_failed, std::vector<caf::error>{})});
    return;
  }
  struct state {
    std::vector<caf::error> causes;
    size_t pending;
    bool finished = false;
    Done done;
  };
  auto st = std::make_shared<state>(
      state{std::vector<caf::error>(calls.size()), calls.size(), false, std::move(done)});
  auto b = detail::budget::start(self, opts);
  for (size_t i = 0; i < calls.size() && !st->finished; ++i) {
    detail::send(
        self, calls[i], b,
        [st](T&& x) {
          if (st->finished)
            return;
          st->finished = true;
          st->done(caf::expected<T>{std::move(x)});
        },
        [st, i](caf::error&& err) {
          if (st->finished)
            return;
          st->causes[i] = std::move(err);
          if (--st->pending == 0) {
            st->finished = true;
            st->done(caf::expected<T>{
                caf::make_error(error::all_failed, std::move(st->causes))});
          }
        });
  }
}

/// Promise.race: the first call to settle wins, with its value or its error.
/// `race([])` completes at once with `error::all_failed` and no causes (a
/// race with no runners is never left pending).
template <class T, class Self, class Done>
void race(Self* self, const std::vector<call<T>>& calls, Done done,
          call_options opts = {}) {
  if (detail::refuse_empty_done(done, "race"))
    return;
  if (auto err = validate(opts)) {
    done(caf::expected<T>{std::move(err)});
    return;
  }
  if (calls.empty()) {
    done(caf::expected<T>{caf::make_error(error::all_failed, std::vector<caf::error>{})});
    return;
  }
  struct state {
    bool finished = false;
    Done done;
    void settle(caf::expected<T>&& x) {
      if (finished)
        return;
      finished = true;
      done(std::move(x));
    }
  };
  auto st = std::make_shared<state>(state{false, std::move(done)});
  auto b = detail::budget::start(self, opts);
  for (size_t i = 0; i < calls.size() && !st->finished; ++i)
    detail::send(
        self, calls[i], b, [st](T&& x) { st->settle(caf::expected<T>{std::move(x)}); },
        [st](caf::error&& err) { st->settle(caf::expected<T>{std::move(err)}); });
}

// -- blocking overloads -------------------------------------------------------

/// Blocking `all`: waits for the result on the calling thread.
template <class T>
caf::expected<std::vector<T>> all(caf::scoped_actor& self, std::vector<call<T>> calls,
                                  call_options opts = {}) {
  return await_expected<std::vector<T>>(
      self, [calls{std::move(calls)}, opts](auto* h, auto done) {
        all<T>(h, calls, std::move(done), opts);
      });
}

/// Blocking `all_settled`: waits for the result on the calling thread.
template <class T>
std::vector<caf::expected<T>>
all_settled(caf::scoped_actor& self, std::vector<call<T>> calls, call_options opts = {}) {
  auto n = calls.size();
  return await_result<std::vector<caf::expected<T>>>(
      self,
      [calls{std::move(calls)}, opts](auto* h, auto done) {
        all_settled<T>(h, calls, std::move(done), opts);
      },
      [n](caf::error err) {
        return std::vector<caf::expected<T>>(n, caf::expected<T>{err});
      });
}

/// Blocking `any`: waits for the result on the calling thread.
template <class T>
caf::expected<T> any(caf::scoped_actor& self, std::vector<call<T>> calls,
                     call_options opts = {}) {
  return await_expected<T>(self, [calls{std::move(calls)}, opts](auto* h, auto done) {
    any<T>(h, calls, std::move(done), opts);
  });
}

/// Blocking `race`: waits for the result on the calling thread.
template <class T>
caf::expected<T> race(caf::scoped_actor& self, std::vector<call<T>> calls,
                      call_options opts = {}) {
  return await_expected<T>(self, [calls{std::move(calls)}, opts](auto* h, auto done) {
    race<T>(h, calls, std::move(done), opts);
  });
}

} // namespace actorkit
