// Small helpers shared by the test suites.
#pragma once

#include <chrono>
#include <cstdint>

#include <actorkit/actors/type_ids.hpp>
#include <actorkit/patterns/call.hpp>
#include <actorkit/tests/support/scripted_service.hpp>

namespace actorkit::test {

using namespace std::chrono_literals;

/// Whole milliseconds of a virtual-time span, for readable assertions.
template <class Duration>
int64_t ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

/// A call asking `svc` for its answer to x.
inline call<int64_t> ask_int(const testing::scripted_service& svc, int64_t x) {
  return ask<int64_t>(svc.actor, ask_atom_v, x);
}

inline call<int64_t> ask_int(const caf::actor& hdl, int64_t x) {
  return ask<int64_t>(hdl, ask_atom_v, x);
}

} // namespace actorkit::test
