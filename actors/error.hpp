/// actorkit's error codes, registered with CAF as the error category
/// "actorkit". They travel between actors as `caf::error`, never as
/// exceptions:
///
///   caf::error e = caf::make_error(actorkit::error::overloaded, "queue full");
///   if (e == actorkit::error::overloaded) ...
///
/// Where CAF already has a code, actorkit reuses it: a request that outlives
/// its timeout fails with `caf::sec::request_timeout`, one sent to a dead
/// actor with `caf::sec::request_receiver_down`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/fwd.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace actorkit {

/// Every failure actorkit reports that CAF has no code for.
enum class error : uint8_t {
  /// Not an error (CAF treats code 0 as "no error").
  none = 0,
  /// A newer request for the same key replaced this one (latest-wins).
  superseded,
  /// The component is at its bound (queue, window, rate) and refused the work.
  overloaded,
  /// A circuit breaker is open and rejected the call without trying it.
  circuit_open,
  /// Every alternative failed (any, fallback chains); the context holds a
  /// `std::vector<caf::error>` with each cause, in input order.
  all_failed,
  /// A configuration or argument was refused; the context names the field.
  invalid_config,
  /// The lease expired before it was released.
  lease_expired,
  /// The caller presented a lease or token it does not own.
  not_owner,
  /// The work was dropped to make room for newer work.
  dropped,
  /// The work was cancelled before it completed.
  cancelled,
  /// An overall deadline passed before the composition completed.
  deadline_exceeded,
  /// The component shut down before the work completed.
  shut_down,
  /// The task failed too often and was set aside.
  quarantined,
};

/// The text of an error code, e.g. "overloaded".
std::string to_string(error x);

/// The causes carried by an `all_failed` error (empty for any other error).
std::vector<caf::error> causes(const caf::error& x);

/// The category atom actorkit's errors are registered under.
caf::atom_value error_category();

} // namespace actorkit

CAF_ERROR_CODE_ENUM(actorkit::error, "actorkit")
