/// The one CAF type-ID block of actorkit: every atom and message type that
/// crosses an actor boundary. Every program and test fixture adds it, usually
/// through actorkit::configure(cfg) (actors/system.hpp) or
/// CAF_MAIN(caf::id_block::actorkit).
///
/// Atom texts are prefixed "ak_" so they never collide with a user's atoms
/// (atoms with equal text are the same type in CAF).
#pragma once

#include <vector>

#include <caf/error.hpp>
#include <caf/type_id.hpp>

namespace actorkit {
struct lease;
struct mutex_stats;
struct latest_wins_stats;
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

// Mutex (actors/mutex.hpp).
CAF_ADD_ATOM(actorkit, actorkit, acquire_atom, "ak_acquire")
CAF_ADD_ATOM(actorkit, actorkit, try_acquire_atom, "ak_try_acq")
CAF_ADD_ATOM(actorkit, actorkit, release_atom, "ak_release")
CAF_ADD_ATOM(actorkit, actorkit, expire_atom, "ak_expire")
CAF_ADD_ATOM(actorkit, actorkit, wait_over_atom, "ak_waited")
CAF_ADD_TYPE_ID(actorkit, (actorkit::lease))
CAF_ADD_TYPE_ID(actorkit, (actorkit::mutex_stats))

// Serialized state, latest-wins gate, versioned state.
CAF_ADD_ATOM(actorkit, actorkit, get_atom, "ak_get")
CAF_ADD_ATOM(actorkit, actorkit, update_atom, "ak_update")
CAF_ADD_ATOM(actorkit, actorkit, submit_atom, "ak_submit")
CAF_ADD_ATOM(actorkit, actorkit, cancel_atom, "ak_cancel")
CAF_ADD_ATOM(actorkit, actorkit, put_atom, "ak_put")
CAF_ADD_TYPE_ID(actorkit, (actorkit::latest_wins_stats))
CAF_ADD_TYPE_ID(actorkit, (actorkit::version_ack))

CAF_END_TYPE_ID_BLOCK(actorkit)
