// The two actor systems every benchmark runs on, in the same process:
// get(2) is started with scheduler.max-threads=2, get(0) with CAF's default
// thread count. Each is built on first use; main() must call release_systems() before
// it returns, since destroying actor systems during static destruction
// corrupts the heap in CAF 0.17.6.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>

#include <benchmark/benchmark.h>

#include <caf/actor_system.hpp>

#include <actorkit/actors/config.hpp>

namespace actorkit::bench {

struct systems {
  actorkit::config cfg2;
  actorkit::config cfg_default;
  std::unique_ptr<caf::actor_system> two;
  std::unique_ptr<caf::actor_system> dflt;

  // Each system starts on first use, so that a run filtered to one scheduler
  // has no idle scheduler threads of the other competing for the cores.
  caf::actor_system& get(int64_t which) {
    if (which == 2) {
      if (!two) {
        cfg2.set("scheduler.max-threads", 2);
        two = std::make_unique<caf::actor_system>(cfg2);
      }
      return *two;
    }
    if (!dflt)
      dflt = std::make_unique<caf::actor_system>(cfg_default);
    return *dflt;
  }
};

inline std::unique_ptr<systems>& systems_slot() {
  static std::unique_ptr<systems> instance;
  return instance;
}

/// The process's systems, built on first use.
inline systems& sys_pool() {
  auto& slot = systems_slot();
  if (!slot)
    slot = std::make_unique<systems>();
  return *slot;
}

/// Shuts both systems down; call at the end of main().
inline void release_systems() {
  systems_slot().reset();
}

/// The main() of a benchmark program: `<program> <mode> args...` (exactly
/// `mode_argc` arguments in all) runs `fixed(argv + 2)`, fixed work for
/// callgrind; anything else runs Google Benchmark. Releases the systems
/// either way.
template <class Fixed>
int run_main(int argc, char** argv, const char* mode, int mode_argc, Fixed fixed) {
  int rc = 0;
  if (argc == mode_argc && std::strcmp(argv[1], mode) == 0) {
    rc = fixed(argv + 2);
  } else {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
      rc = 1;
    } else {
      benchmark::RunSpecifiedBenchmarks();
      benchmark::Shutdown();
    }
  }
  release_systems();
  return rc;
}

} // namespace actorkit::bench
