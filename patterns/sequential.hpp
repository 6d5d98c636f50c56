/// Sequential compositions: strictly one request at a time, each started only
/// after the previous one has answered.
///
///   sequence(self, calls, done)             done(caf::expected<std::vector<T>>)
///   reduce(self, items, init, step, done)   done(caf::expected<Acc>)
///   waterfall(self, init, steps, done)      done(caf::expected<T>)
///
/// - `sequence` is the lesson's for-of loop: results in order, stops at the
///   first error (later calls are never sent).
/// - `reduce` folds `items` through requests: `step(acc, item)` returns the
///   `call<Acc>` whose answer becomes the next accumulator; `reduce([])` is
///   `init`.
/// - `waterfall` passes each step's answer to the next step:
///   `waterfall(5, [*2, +10, /2]) == 10`; no steps yields `init`.
/// - A `step` that throws completes the composition with
///   `sec::runtime_error`. Steps and `done` run later, from the actor's reply
///   handlers, so they must capture by value.
/// Exactly-once `done`, timeouts, deadline (counted from the start of the
/// whole sequence), late replies and caller death are as in parallel.hpp.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>

#include <actorkit/patterns/blocking.hpp>
#include <actorkit/patterns/call.hpp>
#include <actorkit/patterns/detail/send.hpp>
#include <actorkit/patterns/map_limit.hpp>

namespace actorkit {

/// A waterfall step: builds the next call from the previous answer.
template <class T>
using step = std::function<call<T>(const T&)>;

namespace detail {

struct identity_call {
  template <class T>
  const call<T>& operator()(const call<T>& c) const {
    return c;
  }
};

template <class Self, class Acc, class In, class Step, class Done>
class fold_state
    : public std::enable_shared_from_this<fold_state<Self, Acc, In, Step, Done>> {
public:
  fold_state(Self* self, std::vector<In> items, Acc init, Step step, Done done, budget b)
      : self_(self), items_(std::move(items)), acc_(std::move(init)),
        step_(std::move(step)), done_(std::move(done)), budget_(b) {}

  void next() {
    if (index_ == items_.size()) {
      done_(caf::expected<Acc>{std::move(acc_)});
      return;
    }
    std::optional<call<Acc>> c;
    try {
      c = step_(static_cast<const Acc&>(acc_), items_[index_]);
    } catch (std::exception& e) {
      done_(caf::expected<Acc>{caf::make_error(caf::sec::runtime_error,
                                               std::string{"step threw: "} + e.what())});
      return;
    } catch (...) {
      done_(caf::expected<Acc>{caf::make_error(caf::sec::runtime_error, "step threw")});
      return;
    }
    detail::send(
        self_, *c, budget_,
        [st = this->shared_from_this()](Acc&& x) {
          st->acc_ = std::move(x);
          ++st->index_;
          st->next();
        },
        [st = this->shared_from_this()](caf::error&& err) {
          st->done_(caf::expected<Acc>{std::move(err)});
        });
  }

private:
  Self* self_;
  std::vector<In> items_;
  Acc acc_;
  Step step_;
  Done done_;
  budget budget_;
  size_t index_ = 0;
};

} // namespace detail

/// For-of sequence: sends the calls one after another, stops at the first
/// error, completes with the answers in order.
template <class T, class Self, class Done>
void sequence(Self* self, std::vector<call<T>> calls, Done done, call_options opts = {}) {
  map_limit(self, std::move(calls), 1, detail::identity_call{}, std::move(done), opts);
}

/// Sequential fold through requests: `step(const Acc&, const In&) -> call<Acc>`.
template <class Self, class Acc, class In, class Step, class Done>
void reduce(Self* self, std::vector<In> items, Acc init, Step step, Done done,
            call_options opts = {}) {
  if (detail::refuse_empty_done(done, "reduce"))
    return;
  if (auto err = validate(opts)) {
    done(caf::expected<Acc>{std::move(err)});
    return;
  }
  if (detail::is_empty_fn(step)) {
    done(caf::expected<Acc>{
        caf::make_error(error::invalid_config, "reduce: empty step function")});
    return;
  }
  auto b = detail::budget::start(self, opts);
  using state = detail::fold_state<Self, Acc, In, Step, Done>;
  std::make_shared<state>(self, std::move(items), std::move(init), std::move(step),
                          std::move(done), b)
      ->next();
}

/// Waterfall: each step receives the previous answer; completes with the last.
template <class T, class Self, class Done>
void waterfall(Self* self, T init, std::vector<step<T>> steps, Done done,
               call_options opts = {}) {
  if (detail::refuse_empty_done(done, "waterfall"))
    return;
  for (auto& s : steps)
    if (!s) {
      done(caf::expected<T>{
          caf::make_error(error::invalid_config, "waterfall: empty step function")});
      return;
    }
  reduce(
      self, std::move(steps), std::move(init),
      [](const T& acc, const step<T>& s) { return s(acc); }, std::move(done), opts);
}

// -- blocking overloads -------------------------------------------------------

/// Blocking `sequence`.
template <class T>
caf::expected<std::vector<T>>
sequence(caf::scoped_actor& self, std::vector<call<T>> calls, call_options opts = {}) {
  return await_expected<std::vector<T>>(
      self, [calls{std::move(calls)}, opts](auto* h, auto done) {
        sequence(h, calls, std::move(done), opts);
      });
}

/// Blocking `reduce`.
template <class Acc, class In, class Step>
caf::expected<Acc> reduce(caf::scoped_actor& self, std::vector<In> items, Acc init,
                          Step step, call_options opts = {}) {
  return await_expected<Acc>(self, [items{std::move(items)}, init{std::move(init)},
                                    step{std::move(step)}, opts](auto* h, auto done) {
    reduce(h, items, init, step, std::move(done), opts);
  });
}

/// Blocking `waterfall`.
template <class T>
caf::expected<T> waterfall(caf::scoped_actor& self, T init, std::vector<step<T>> steps,
                           call_options opts = {}) {
  return await_expected<T>(
      self, [init{std::move(init)}, steps{std::move(steps)}, opts](auto* h, auto done) {
        waterfall(h, init, steps, std::move(done), opts);
      });
}

} // namespace actorkit
