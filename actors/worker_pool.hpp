/// A worker pool: a group of worker actors behind one pool actor (the lesson's
/// PromisePool and PriorityPromisePool). Callers send the pool exactly the
/// requests the workers understand and get the worker's answer back.
///
/// Protocol of the pool actor (dynamically typed, `caf::actor`):
///
///   <any task message>                      -> the worker's answer
///   (prio_atom, int32_t prio, caf::message) -> the worker's answer to the
///                                              wrapped task, run by priority
///   (resize_atom, uint64_t n)               -> void   grow or shrink to n
///                                              (busy workers finish their
///                                              tasks before leaving; a grow
///                                              takes them back first), or
///                                              error::invalid_config: n 0
///                                              or above the limits, a grow
///                                              without a factory, or the
///                                              factory failing (the workers
///                                              it started stay)
///   (pause_atom) / (resume_atom)            -> void   stop / restart dispatch
///   (drain_atom)                            -> void   once nothing is queued
///                                                     and nothing runs
///   (clear_atom)                            -> uint64_t  answers every queued
///                                              task `error::dropped` (running
///                                              ones go on); how many there were
///   (shutdown_atom)                         -> void   answers every caller,
///                                                     then the pool exits
///   (stats_atom)                            -> worker_pool_stats
///   (subscribe_atom, caf::actor who)        -> void   `who` gets a
///                                              worker_pool_event (a plain
///                                              message from the pool) for
///                                              every change: worker
///                                              replaced or lost, replacement
///                                              delayed by the back-off or
///                                              cancelled, task timed out or
///                                              quarantined, resized, paused,
///                                              resumed, cleared, stopped.
///                                              Dead subscribers are dropped.
///   (unsubscribe_atom, caf::actor who)      -> void
///   (expire_atom, uint64_t)                 the pool's own timer; from any
///                                           other sender answered void, no
///                                           effect
///
/// A message that is not one of the control messages above is a task with
/// priority 0. A task sent as a plain message (not a request) runs, but the
/// worker's answer is dropped. To send a worker a message that starts with one of these
/// atoms, wrap it with `prioritized(...)`.
///
/// Dispatch is work-pulling: a task goes to a worker that has a free slot
/// (fewer than `max_in_flight_per_worker` tasks), preferring the slot free
/// the longest; otherwise it waits in the pool's queue. New workers' slots
/// are handed out one round over all of them at a time, so that a burst
/// spreads over the workers before any gets a second task. At most
/// workers x max_in_flight_per_worker tasks run at once (plus, after a task
/// timeout on a worker the user handed in, the tasks still finishing on that
/// dropped worker; its `task_timed_out` events then replace nothing, and the
/// pool watches it until those tasks are done: if it crashes, they run again
/// elsewhere as on any crash). Higher priorities run first; equal priorities
/// run in arrival order.
///
/// Every task is answered exactly once:
/// - the worker's answer (value or error), relayed unchanged;
/// - `error::overloaded` when the queue is full (overflow_policy::reject_newest),
///   or `error::dropped` for the oldest queued task of the lowest priority when
///   a new one pushes it out (overflow_policy::drop_oldest; a new task of a
///   lower priority than every queued one is itself answered `error::dropped`);
/// - `error::dropped` when (clear_atom) empties the queue it waits in, or
///   when the pool could not hand it to a worker (the send threw, out of
///   memory say): it did not run then;
/// - `error::overloaded` when it waited in the queue longer than
///   `queue_timeout` without starting (it never runs then);
/// - `caf::sec::request_timeout` when the task ran longer than `task_timeout`;
///   the stuck worker is replaced by the factory (without one the pool goes
///   on with one worker fewer), killed if the pool made it (a worker the user
///   handed in is only dropped from the pool), and its late answer is
///   discarded. Other tasks on that worker did not fail: on a killed worker
///   they run again, the first time without using up a redelivery (with
///   `max_redeliveries` 0 they end with the worker: `caf::exit_reason::kill`,
///   counted as failed; past their redeliveries they are quarantined with
///   `caf::exit_reason::kill`); on a dropped one they run on and are answered,
///   time out on their own, or run again elsewhere if that worker crashes. The kill goes
///   ahead of the tasks waiting in the worker's mailbox: a stuck worker that wakes up
///   stops before it runs a task that reached it while it was stuck. CAF takes messages
///   out of a mailbox a few at a time, though, so a task that had reached it before the
///   stuck one started may still run there (its answer is discarded): work that must not
///   run twice wants `max_in_flight_per_worker` 1;
/// - when its worker crashes, the task runs again on another worker up to
///   `max_redeliveries` times (ahead of the queued tasks of its priority,
///   also past the queue's capacity, since they were accepted already; a
///   worker's tasks in the order they were last dispatched); after that the caller gets
///   the worker's exit reason (`caf::sec::request_receiver_down` for a normal exit) and
///   the task is counted as quarantined. Only CAF's own down message counts: one that
///   another actor sends about a worker still running is ignored;
/// - `error::shut_down` after (shutdown_atom), and the pool's exit reason (or
///   `error::shut_down` for a normal exit) when the pool dies with the task
///   queued or running; drain requests are answered the same way. When no
///   handle to the pool is left, its queued callers get
///   `caf::exit_reason::unreachable`. Requests reaching a pool that has
///   exited get `caf::sec::request_receiver_down`, as from any dead actor.
///
/// The one exception is the pool itself running out of memory while it
/// handles a message or passes an answer on: it logs the failure and goes
/// on, but the callers concerned may go unanswered. (A task it could not
/// hand to its worker is answered `error::dropped`, as above.)
///
/// A worker that answers with an error while it is already terminating (for
/// example one answering its parked requests from its exit path) counts as
/// crashed, not as having answered; its tasks wait for its down message and
/// are re-dispatched or quarantined with the exit reason it carries (also
/// those that bounced from its mailbox first). An actorkit pool used as a
/// worker counts as terminating from the moment it stops (shutdown_atom, an
/// exit message, its last worker gone). A live worker that passed a task on (with
/// `delegate`, say) to an actor that is gone has answered: its caller gets
/// `caf::sec::request_receiver_down`. Such a bounce carries no sender, so the
/// pool judges it by the worker's state when it handles the bounce: a worker
/// that dies in between counts as crashed with the task. Where the pool cannot
/// see whether a worker lives (a proxy of a remote actor, a forwarding actor
/// such as `caf::actor_pool`), a bounce counts as the worker's crash, and the
/// worker is dropped and replaced. An actorkit pool used as a worker relays
/// its own workers' bounces as its answers.
///
/// Workers made by the factory belong to the pool: it stops them when it exits
/// and replaces them when they crash or get stuck. Workers handed in by the
/// user are not stopped by the pool; when one crashes it is replaced through
/// the factory if one was given, otherwise the pool continues with fewer
/// workers, and with none left it exits with `error::shut_down`. With a
/// `restart_backoff`, a worker lost soon after its start is replaced only after
/// a delay that doubles with each such loss in a row in its place (each place
/// in the pool keeps its own row, as with one back-off supervisor per
/// worker); replacements still
/// waiting count as workers for a resize (a shrink drops them first), and the
/// pool does not exit while one waits.
///
/// Workers and callers may be actors of other processes (through CAF's
/// middleman). CAF never answers the requests that reached a process that is
/// gone, but the pool monitors its workers: their tasks run again elsewhere
/// as after a crash.
///
/// Time comes from CAF's clock only: the task and queue timeouts share a pool
/// timer for the earliest deadline, not one timer per task.
///
/// Like `caf::actor_pool`, the pool has no mailbox and no thread of its own:
/// it handles each message inside `enqueue`, on the sender's thread, under a
/// short lock, and talks to other actors only after releasing it. A task goes
/// from the caller's thread straight into a worker's mailbox, and the
/// worker's answer from the worker's thread straight into the caller's: two
/// mailbox hops per task, as for a direct request, and no single thread that
/// every task must pass through. The worker factory runs inside the pool, on
/// whichever thread brought the message that needs a worker (CAF's network
/// thread, for the loss of a remote worker), so it must not block; messages
/// it sends the pool are handled right after the current one.
/// Under heavy load, the thread that holds the pool sends the messages other
/// threads queued meanwhile too, so a worker's thread may spend a while doing
/// the pool's sending before it returns to its own actor. The pool never
/// calls CAF's clock itself: a small relay actor sets its timers and hands
/// it their messages. So a delayed message sent straight to the pool, which
/// the clock's own thread hands over, never has the pool wait on that thread
/// for room in the clock's queue, which only it can make. (CAF's own
/// clean-up still calls the clock when the last handle to an actor goes
/// away on that thread: a pool over workers handed in and then forgotten by
/// the user, stopped or shrunk by a delayed message, drops them there.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>
#include <caf/timespan.hpp>

#include <actorkit/actors/error.hpp>
#include <actorkit/actors/type_ids.hpp>

namespace actorkit {

/// A task with an explicit priority: send this to the pool instead of the
/// plain task. Higher runs first; plain tasks have priority 0.
template <class... Ts>
caf::message prioritized(int32_t priority, Ts&&... xs) {
  return caf::make_message(prio_atom_v, priority,
                           caf::make_message(std::forward<Ts>(xs)...));
}

/// What a full queue does with one more task.
enum class overflow_policy {
  /// The new task is refused with `error::overloaded` (default).
  reject_newest,
  /// The oldest task of the lowest queued priority is answered
  /// `error::dropped` and the new task is queued; a new task whose priority
  /// is below every queued one is itself answered `error::dropped`.
  drop_oldest,
};

/// Starts one worker; called at spawn, on grow and to replace a worker. It
/// must return a live actor (a null handle counts as a failed start).
using worker_factory = std::function<caf::actor(caf::actor_system&)>;

/// Makes a worker_factory from anything `sys.spawn` accepts without further
/// arguments: a behavior function, or a typed actor's implementation.
template <class F>
worker_factory make_worker_factory(F fun) {
  return [fun](caf::actor_system& sys) {
    return caf::actor_cast<caf::actor>(sys.spawn(fun));
  };
}

/// Most workers a pool may have (at spawn and after a resize).
constexpr size_t worker_pool_max_workers = 65536;

/// Most tasks a pool may run at once: workers x max_in_flight_per_worker,
/// checked at spawn and on every resize.
constexpr size_t worker_pool_max_slots = size_t{1} << 20;

/// Most recent tasks the wait/run percentiles may cover.
constexpr size_t worker_pool_max_latency_samples = 65536;

/// Options of a worker pool; `validate` names the first bad field.
struct worker_pool_config {
  /// Number of workers started from the factory; 1 to
  /// `worker_pool_max_workers`. Ignored when the pool is spawned over
  /// existing workers.
  size_t workers = 4;
  /// Tasks one worker runs at once; at least 1, and workers x this at most
  /// `worker_pool_max_slots`.
  size_t max_in_flight_per_worker = 1;
  /// Tasks waiting in the queue at most; at least 1.
  size_t queue_capacity = 10000;
  /// What a full queue does with one more task.
  overflow_policy overflow = overflow_policy::reject_newest;
  /// Longest a task may run on a worker; positive. 100 years or more means
  /// no limit (the default).
  caf::timespan task_timeout = caf::timespan::max();
  /// Longest a task may wait in the queue before it first starts; positive.
  /// A task still waiting then is answered `error::overloaded` and never
  /// runs, so callers are not left waiting behind a backlog (a bulkhead's
  /// maximum wait); it applies while the pool is paused too. A re-dispatched
  /// task does not wait on it again. 100
  /// years or more means no limit (the default).
  caf::timespan queue_timeout = caf::timespan::max();
  /// How often a task whose worker crashed runs again before it is
  /// quarantined. For a re-dispatch the pool keeps each running task's
  /// content: a copy when it holds only numbers, atoms, times and handles
  /// (the worker then gets the caller's message as it is), otherwise the
  /// content itself, moved into a message the worker's message shares (any
  /// deep copy is CAF's copy on write, on the worker's thread). 0 never
  /// re-dispatches: plain tasks then go to the worker as they are and the
  /// pool keeps nothing of them.
  size_t max_redeliveries = 2;
  /// Back-off for replacing workers that keep failing (a crash loop, say
  /// when a worker's dependency is down). Zero (the default) replaces every
  /// lost worker at once. Otherwise a worker lost within
  /// `restart_backoff_reset` of its start is replaced only after a delay:
  /// `restart_backoff` for the first such loss in a row, doubled for each
  /// further one in the same place (the replacements of one worker, and
  /// theirs), at most `restart_backoff_max`. Each place keeps its own row:
  /// workers lost together (their dependency went down) all wait
  /// `restart_backoff`, then twice that, and so on. Losing a worker that ran
  /// at least `restart_backoff_reset` ends the row in its place, and it is
  /// replaced at once. Workers leaving after a shrink are kept when no other
  /// worker is left, in place of pending replacements (which are then
  /// cancelled: `pool_event::restart_cancelled`).
  /// While a replacement waits, the pool runs with fewer workers; with none
  /// left, tasks wait in the queue (`queue_timeout` still applies). At least
  /// zero and below 100 years.
  caf::timespan restart_backoff = caf::timespan::zero();
  /// Longest delay before a replacement; at least `restart_backoff` and below
  /// 100 years.
  caf::timespan restart_backoff_max = std::chrono::seconds{30};
  /// How long a worker must run for its loss to count as a new failure, not
  /// a further one in a row; positive and below 100 years.
  caf::timespan restart_backoff_reset = std::chrono::seconds{10};
  /// How many recent tasks the wait/run percentiles cover; 1 to
  /// `worker_pool_max_latency_samples`.
  size_t latency_samples = 1024;
  /// Parked (drain_atom) requests at most; further ones are answered
  /// `error::overloaded`. At least 1.
  size_t max_drain_waiters = 64;
  /// Subscribers (subscribe_atom) at most; further ones are answered
  /// `error::overloaded`. At least 1.
  size_t max_subscribers = 16;
};

/// Checks `cfg`: `error::invalid_config` naming the field, or no error.
/// `check_workers` is false when the pool is built over existing workers
/// (their number is checked at spawn then).
caf::error validate(const worker_pool_config& cfg, bool check_workers = true);

/// Spawns a pool of `cfg.workers` workers made by `factory`. A bad config or a
/// factory that fails to start a worker (throws, returns none, a duplicate or
/// an actor that is gone) is refused with `error::invalid_config` naming the
/// field; nothing is left running then.
caf::expected<caf::actor>
spawn_worker_pool(caf::actor_system& sys, worker_pool_config cfg, worker_factory factory);

/// Spawns a pool over `workers` the caller already has (at least one, none
/// null, none twice, none gone). The pool does not stop them when it exits. `replace`, if
/// given, starts replacements for crashed or stuck workers and serves grow requests;
/// without it the pool refuses to grow and shrinks as workers crash.
caf::expected<caf::actor> spawn_worker_pool(caf::actor_system& sys,
                                            worker_pool_config cfg,
                                            std::vector<caf::actor> workers,
                                            worker_factory replace = nullptr);

} // namespace actorkit
