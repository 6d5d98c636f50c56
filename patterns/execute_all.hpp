/// The lesson's executeAll: run every task through a worker pool
/// (actors/worker_pool.hpp) and collect the answers in input order.
///
///   std::vector<caf::message> tasks{caf::make_message(fetch_atom_v, id1), ...};
///   execute_all<user>(self, pool, tasks,
///                     [](caf::expected<std::vector<user>> r) { ... });
///
/// All tasks are handed to the pool at once; the pool bounds how many run
/// (workers x max_in_flight_per_worker) and in which order (wrap a task with
/// `prioritized(prio, ...)` to give it a priority).
///
/// - `execute_all` fails fast: the first error completes it. Tasks already
///   handed to the pool still run; their answers are ignored.
/// - `execute_all_settled` never fails: one `caf::expected<T>` per task, in
///   input order. A full pool queue shows up as `error::overloaded`
///   (`overflow_policy::reject_newest`) or `error::dropped` (`drop_oldest`).
/// - `opts.timeout` bounds each task from the moment it is handed to the
///   pool, time spent in the pool's queue included; `opts.deadline` bounds the
///   whole run. Empty input completes at once with an empty vector.
/// Everything else (exactly-once `done`, late replies, caller death) is as
/// documented in parallel.hpp; the blocking overloads take a
/// `caf::scoped_actor&` and return the result.
#pragma once

#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/expected.hpp>
#include <caf/message.hpp>
#include <caf/scoped_actor.hpp>

#include <actorkit/patterns/call.hpp>
#include <actorkit/patterns/parallel.hpp>

namespace actorkit {

namespace detail {

template <class T>
std::vector<call<T>> pool_calls(const caf::actor& pool,
                                const std::vector<caf::message>& tasks) {
  std::vector<call<T>> calls;
  calls.reserve(tasks.size());
  for (auto& task : tasks)
    calls.push_back(call<T>{pool, task});
  return calls;
}

} // namespace detail

/// Fail-fast: `done(caf::expected<std::vector<T>>)`, values in input order or
/// the first error.
template <class T, class Self, class Done>
void execute_all(Self* self, const caf::actor& pool,
                 const std::vector<caf::message>& tasks, Done done,
                 call_options opts = {}) {
  all<T>(self, detail::pool_calls<T>(pool, tasks), std::move(done), opts);
}

/// Settled: `done(std::vector<caf::expected<T>>)`, one outcome per task in
/// input order; never fails.
template <class T, class Self, class Done>
void execute_all_settled(Self* self, const caf::actor& pool,
                         const std::vector<caf::message>& tasks, Done done,
                         call_options opts = {}) {
  all_settled<T>(self, detail::pool_calls<T>(pool, tasks), std::move(done), opts);
}

/// Blocking fail-fast `execute_all`.
template <class T>
caf::expected<std::vector<T>> execute_all(caf::scoped_actor& self, const caf::actor& pool,
                                          const std::vector<caf::message>& tasks,
                                          call_options opts = {}) {
  return all<T>(self, detail::pool_calls<T>(pool, tasks), opts);
}

/// Blocking settled `execute_all_settled`.
template <class T>
std::vector<caf::expected<T>>
execute_all_settled(caf::scoped_actor& self, const caf::actor& pool,
                    const std::vector<caf::message>& tasks, call_options opts = {}) {
  return all_settled<T>(self, detail::pool_calls<T>(pool, tasks), opts);
}

} // namespace actorkit
