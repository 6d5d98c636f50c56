/// The one CAF type-ID block of actorkit: every atom and message type that
/// crosses an actor boundary. Every program and test fixture adds it, usually
/// through actorkit::configure(cfg) (actors/config.hpp) or
/// CAF_MAIN(caf::id_block::actorkit).
///
/// Atom texts are prefixed "ak_" so they never collide with a user's atoms
/// (atoms with equal text are the same type in CAF).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>
#include <caf/type_id.hpp>

namespace actorkit {

/// A worker pool's answer to (stats_atom): see actors/worker_pool.hpp. Counters
/// count since the pool started; percentiles cover the most recent tasks (up
/// to worker_pool_config::latency_samples of them), zero before any task.
struct worker_pool_stats {
  /// Workers in the pool (not counting ones retiring after a shrink).
  uint64_t workers = 0;
  /// Tasks waiting in the queue.
  uint64_t queued = 0;
  /// Tasks running on a worker.
  uint64_t running = 0;
  /// Tasks whose worker answered with a value.
  uint64_t completed = 0;
  /// Tasks whose worker answered with an error, or that ended with a worker
  /// killed for a task beside them (see the task timeout in worker_pool.hpp).
  uint64_t failed = 0;
  /// Tasks answered `sec::request_timeout` by the pool's task timeout.
  uint64_t timed_out = 0;
  /// Re-dispatches of tasks whose worker crashed (also the reruns of tasks
  /// that ran beside a stuck task on a worker the pool killed).
  uint64_t redelivered = 0;
  /// Tasks set aside after crashing more than max_redeliveries workers.
  uint64_t quarantined = 0;
  /// Tasks refused `error::overloaded` because the queue was full.
  uint64_t rejected = 0;
  /// Tasks answered `error::dropped` by the overflow policy (a queued one
  /// pushed out, or the new one itself) or because they could not be handed
  /// to a worker.
  uint64_t dropped = 0;
  /// Queued tasks answered `error::overloaded` after waiting longer than
  /// the queue timeout.
  uint64_t queue_timeouts = 0;
  /// Queued tasks answered `error::dropped` by (clear_atom).
  uint64_t cleared = 0;
  /// Workers started to replace crashed or stuck ones, and workers leaving
  /// after a shrink that stayed to take a lost worker's place.
  uint64_t replaced = 0;
  /// Replacements waiting for their restart back-off.
  uint64_t restarting = 0;
  /// Time from arrival to first dispatch: median, 90th and 99th percentile
  /// (nearest rank over the recent tasks, so p99 of fewer than 100 tasks is
  /// the longest).
  caf::timespan wait_p50{0}, wait_p90{0}, wait_p99{0};
  /// Time from (last) dispatch to answer: median, 90th and 99th percentile.
  caf::timespan run_p50{0}, run_p90{0}, run_p99{0};
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_pool_stats& x) {
  return f(caf::meta::type_name("worker_pool_stats"), x.workers, x.queued, x.running,
           x.completed, x.failed, x.timed_out, x.redelivered, x.quarantined, x.rejected,
           x.dropped, x.queue_timeouts, x.cleared, x.replaced, x.restarting, x.wait_p50,
           x.wait_p90, x.wait_p99, x.run_p50, x.run_p90, x.run_p99);
}

/// What changed in a worker pool; see worker_pool_event.
enum class pool_event : uint8_t {
  /// A crashed or stuck worker was replaced (`reason` says why).
  worker_replaced,
  /// A worker was lost and could not be replaced (`reason` says why).
  worker_lost,
  /// Task `task` ran past the task timeout; its worker is replaced next.
  task_timed_out,
  /// Task `task` crashed too many workers; its caller got `reason`.
  task_quarantined,
  /// The pool was resized; `workers` counts the workers running now
  /// (replacements still waiting for their back-off are not among them).
  resized,
  /// Dispatch was paused.
  paused,
  /// Dispatch was resumed.
  resumed,
  /// The queue was cleared; `task` holds how many tasks it held.
  cleared,
  /// The pool exited (`reason`: empty for a shutdown).
  stopped,
  /// A crashed or stuck worker will be replaced after its restart back-off
  /// (`reason` says why it was lost; `task` holds the delay in milliseconds).
  restart_delayed,
  /// Replacements that waited for their restart back-off will not start
  /// (`task` holds how many): a shrink dropped them, or workers leaving after
  /// a shrink stay in their place because no other worker was left.
  restart_cancelled,
};

/// The name of `x`, e.g. "worker_replaced".
const char* to_string(pool_event x);

/// A worker pool's message to its subscribers: see actors/worker_pool.hpp.
struct worker_pool_event {
  pool_event kind = pool_event::worker_replaced;
  /// Workers in the pool after the change.
  uint64_t workers = 0;
  /// The task concerned (its arrival number), for task events; for
  /// `cleared`, how many queued tasks were answered.
  uint64_t task = 0;
  /// The error behind the change, rendered; empty if none.
  std::string reason;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, worker_pool_event& x) {
  return f(caf::meta::type_name("worker_pool_event"), x.kind, x.workers, x.task,
           x.reason);
}

struct lease;
struct mutex_stats;
struct mutex_event;
struct latest_wins_stats;
struct latest_wins_event;
struct version_ack;
} // namespace actorkit

CAF_BEGIN_TYPE_ID_BLOCK(actorkit, caf::first_custom_type_id)

// Generic verbs shared by components and test doubles.
CAF_ADD_ATOM(actorkit, actorkit, run_atom, "ak_run")
CAF_ADD_ATOM(actorkit, actorkit, ask_atom, "ak_ask")
CAF_ADD_ATOM(actorkit, actorkit, stats_atom, "ak_stats")
CAF_ADD_ATOM(actorkit, actorkit, reset_atom, "ak_reset")
CAF_ADD_ATOM(actorkit, actorkit, done_atom, "ak_done")
CAF_ADD_ATOM(actorkit, actorkit, tick_atom, "ak_tick")

// Test doubles (tests/support).
CAF_ADD_ATOM(actorkit, actorkit, script_atom, "ak_script")

// Error contexts: all_failed carries every cause.
CAF_ADD_TYPE_ID(actorkit, (std::vector<caf::error>))

// Worker pool (actors/worker_pool.hpp).
CAF_ADD_ATOM(actorkit, actorkit, prio_atom, "ak_prio")
CAF_ADD_ATOM(actorkit, actorkit, resize_atom, "ak_resize")
CAF_ADD_ATOM(actorkit, actorkit, pause_atom, "ak_pause")
CAF_ADD_ATOM(actorkit, actorkit, resume_atom, "ak_resume")
CAF_ADD_ATOM(actorkit, actorkit, drain_atom, "ak_drain")
CAF_ADD_ATOM(actorkit, actorkit, shutdown_atom, "ak_shutdn")
CAF_ADD_ATOM(actorkit, actorkit, expire_atom, "ak_expire")
CAF_ADD_ATOM(actorkit, actorkit, clear_atom, "ak_clear")
CAF_ADD_TYPE_ID(actorkit, (actorkit::worker_pool_stats))
CAF_ADD_ATOM(actorkit, actorkit, subscribe_atom, "ak_subscr")
CAF_ADD_ATOM(actorkit, actorkit, unsubscribe_atom, "ak_unsub")
CAF_ADD_TYPE_ID(actorkit, (actorkit::worker_pool_event))
// Mutex (actors/mutex.hpp).
CAF_ADD_ATOM(actorkit, actorkit, acquire_atom, "ak_acquire")
CAF_ADD_ATOM(actorkit, actorkit, try_acquire_atom, "ak_try_acq")
CAF_ADD_ATOM(actorkit, actorkit, release_atom, "ak_release")
CAF_ADD_TYPE_ID(actorkit, (actorkit::lease))
CAF_ADD_TYPE_ID(actorkit, (actorkit::mutex_stats))
CAF_ADD_TYPE_ID(actorkit, (actorkit::mutex_event))

// Serialized state, latest-wins gate, versioned state.
CAF_ADD_ATOM(actorkit, actorkit, get_atom, "ak_get")
CAF_ADD_ATOM(actorkit, actorkit, update_atom, "ak_update")
CAF_ADD_ATOM(actorkit, actorkit, submit_atom, "ak_submit")
CAF_ADD_ATOM(actorkit, actorkit, cancel_atom, "ak_cancel")
CAF_ADD_ATOM(actorkit, actorkit, put_atom, "ak_put")
CAF_ADD_TYPE_ID(actorkit, (actorkit::latest_wins_stats))
CAF_ADD_TYPE_ID(actorkit, (actorkit::latest_wins_event))
CAF_ADD_TYPE_ID(actorkit, (actorkit::version_ack))

// Timer relays: (arm_atom, stamp) asks one to set a timer.
CAF_ADD_ATOM(actorkit, actorkit, arm_atom, "ak_arm")

CAF_END_TYPE_ID_BLOCK(actorkit)
