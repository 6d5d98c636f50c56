/// Parallel map with a concurrency limit: apply a request to each input with
/// at most `limit` requests in flight, results in input order (the lesson's
/// processWithLimit, without its bookkeeping).
///
///   map_limit(self, ids, 3,
///             [users](int64_t id) { return ask<user>(users, get_atom_v, id); },
///             [](caf::expected<std::vector<user>> r) { ... });
///
/// `make` and `done` run later, from the actor's reply handlers, so they
/// must capture by value (the blocking overloads may capture by reference).
///
/// - `map_limit` fails fast: the first error completes it and no further
///   input is started; replies still in flight are ignored.
/// - `map_limit_settled` never fails: one `caf::expected<R>` per input.
/// - `make(input)` builds the call for one input when its turn comes; the
///   next input starts as soon as any in-flight request settles. A `make`
///   that throws fails its input with `sec::runtime_error` (and with it the
///   whole map, in the fail-fast form).
/// - A `limit` below 1 (0, or a negative integer) completes at once with
///   `error::invalid_config`; empty input completes at once with an empty
///   vector (the settled form has no element to carry a refusal then).
/// Everything else (exactly-once `done`, timeouts, deadline, late replies,
/// caller death) is as documented in parallel.hpp.
#pragma once

#include <exception>
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

namespace actorkit {

/// A concurrency limit: any integer (or enumerator). Below 1 is refused with
/// `error::invalid_config` (a negative `int` does not wrap around to a huge
/// limit).
struct limit_t {
  template <
      class Int,
      std::enable_if_t<std::is_integral<Int>::value || std::is_enum<Int>::value, int> = 0>
  limit_t(Int x) {
    if constexpr (std::is_enum<Int>::value) {
      *this = limit_t{static_cast<std::underlying_type_t<Int>>(x)};
    } else if constexpr (std::is_signed<Int>::value) {
      value = x < 1 ? 0 : static_cast<size_t>(x);
    } else {
      value = static_cast<size_t>(x);
    }
  }

  /// The limit, or 0 for a refused one.
  size_t value = 0;
};

namespace detail {

template <class In, class MakeCall>
using mapped_t =
    typename std::decay_t<std::invoke_result_t<MakeCall&, const In&>>::value_type;

/// State of one bounded map: a window of at most `limit` requests in flight.
template <bool Settled, class Self, class In, class MakeCall, class Done>
class bounded_map : public std::enable_shared_from_this<
                        bounded_map<Settled, Self, In, MakeCall, Done>> {
public:
  using value_type = mapped_t<In, MakeCall>;
  using element = std::conditional_t<Settled, caf::expected<value_type>, value_type>;
  using result_type = std::conditional_t<Settled, std::vector<element>,
                                         caf::expected<std::vector<element>>>;

  bounded_map(Self* self, std::vector<In> inputs, size_t limit, MakeCall make, Done done,
              budget b)
      : self_(self), inputs_(std::move(inputs)), limit_(limit), make_(std::move(make)),
        done_(std::move(done)), budget_(b) {
    if constexpr (Settled)
      results_.resize(inputs_.size(), element{caf::error{}});
    else
      results_.resize(inputs_.size());
  }

  void pump() {
    if (pumping_)
      return;
    pumping_ = true;
    while (!finished_ && in_flight_ < limit_ && next_ < inputs_.size()) {
      auto i = next_++;
      ++in_flight_;
      std::optional<call<value_type>> c;
      caf::error err;
      try {
        c = make_(inputs_[i]);
      } catch (std::exception& e) {
        err = caf::make_error(caf::sec::runtime_error,
                              std::string{"make threw: "} + e.what());
      } catch (...) {
        err = caf::make_error(caf::sec::runtime_error, "make threw");
      }
      if (!c) {
        on_error(i, std::move(err));
        continue;
      }
      detail::send(
          self_, *c, budget_,
          [st = this->shared_from_this(), i](value_type&& x) {
            st->on_value(i, std::move(x));
          },
          [st = this->shared_from_this(), i](caf::error&& err) {
            st->on_error(i, std::move(err));
          });
    }
    pumping_ = false;
  }

private:
  void on_value(size_t i, value_type&& x) {
    if (finished_)
      return;
    results_[i] = std::move(x);
    settled();
  }

  void on_error(size_t i, caf::error&& err) {
    if (finished_)
      return;
    if constexpr (Settled) {
      results_[i] = std::move(err);
      settled();
    } else {
      finished_ = true;
      done_(result_type{std::move(err)});
    }
  }

  void settled() {
    --in_flight_;
    if (++settled_ == inputs_.size()) {
      finished_ = true;
      done_(result_type{std::move(results_)});
      return;
    }
    pump();
  }

  Self* self_;
  std::vector<In> inputs_;
  size_t limit_;
  MakeCall make_;
  Done done_;
  budget budget_;
  std::vector<element> results_;
  size_t next_ = 0;
  size_t in_flight_ = 0;
  size_t settled_ = 0;
  bool pumping_ = false;
  bool finished_ = false;
};

template <bool Settled, class Self, class In, class MakeCall, class Done>
void run_bounded_map(Self* self, std::vector<In> inputs, size_t limit, MakeCall make,
                     Done done, call_options opts) {
  using state = bounded_map<Settled, Self, In, MakeCall, Done>;
  using result_type = typename state::result_type;
  if (refuse_empty_done(done, "map_limit"))
    return;
  auto err = validate(opts);
  if (!err && limit == 0)
    err = caf::make_error(error::invalid_config, "map_limit: limit must be at least 1");
  if (!err && is_empty_fn(make))
    err = caf::make_error(error::invalid_config, "map_limit: empty make function");
  if (err) {
    if constexpr (Settled)
      done(result_type(inputs.size(), typename state::element{err}));
    else
      done(result_type{std::move(err)});
    return;
  }
  if (inputs.empty()) {
    if constexpr (Settled)
      done(result_type{});
    else
      done(result_type{std::vector<typename state::element>{}});
    return;
  }
  auto b = budget::start(self, opts);
  std::make_shared<state>(self, std::move(inputs), limit, std::move(make),
                          std::move(done), b)
      ->pump();
}

} // namespace detail

/// Fail-fast bounded map: `done(caf::expected<std::vector<R>>)`, where
/// `make(const In&)` returns a `call<R>`.
template <class Self, class In, class MakeCall, class Done>
void map_limit(Self* self, std::vector<In> inputs, limit_t limit, MakeCall make,
               Done done, call_options opts = {}) {
  detail::run_bounded_map<false>(self, std::move(inputs), limit.value, std::move(make),
                                 std::move(done), opts);
}

/// Settled bounded map: `done(std::vector<caf::expected<R>>)`, never fails.
template <class Self, class In, class MakeCall, class Done>
void map_limit_settled(Self* self, std::vector<In> inputs, limit_t limit, MakeCall make,
                       Done done, call_options opts = {}) {
  detail::run_bounded_map<true>(self, std::move(inputs), limit.value, std::move(make),
                                std::move(done), opts);
}

/// Blocking fail-fast bounded map.
template <class In, class MakeCall>
caf::expected<std::vector<detail::mapped_t<In, MakeCall>>>
map_limit(caf::scoped_actor& self, std::vector<In> inputs, limit_t limit, MakeCall make,
          call_options opts = {}) {
  using R = detail::mapped_t<In, MakeCall>;
  return await_expected<std::vector<R>>(self, [inputs{std::move(inputs)}, limit,
                                               make{std::move(make)},
                                               opts](auto* h, auto done) {
    map_limit(h, inputs, limit, make, std::move(done), opts);
  });
}

/// Blocking settled bounded map.
template <class In, class MakeCall>
std::vector<caf::expected<detail::mapped_t<In, MakeCall>>>
map_limit_settled(caf::scoped_actor& self, std::vector<In> inputs, limit_t limit,
                  MakeCall make, call_options opts = {}) {
  using R = detail::mapped_t<In, MakeCall>;
  auto n = inputs.size();
  return await_result<std::vector<caf::expected<R>>>(
      self,
      [inputs{std::move(inputs)}, limit, make{std::move(make)}, opts](auto* h,
                                                                      auto done) {
        map_limit_settled(h, inputs, limit, make, std::move(done), opts);
      },
      [n](caf::error err) {
        return std::vector<caf::expected<R>>(n, caf::expected<R>{err});
      });
}

} // namespace actorkit
