/// Wiring actorkit into a CAF application: its type IDs, its error category
/// and its options. Either derive your config from actorkit::config, or call
/// actorkit::configure(cfg) on your own config before building the system.
///
///   struct my_config : actorkit::config { ... };
///   void caf_main(caf::actor_system& sys, const my_config& cfg) {
///     if (auto err = actorkit::apply_options(cfg)) ...
///   }
///   CAF_MAIN()
#pragma once

#include <caf/actor_system_config.hpp>
#include <caf/error.hpp>

#include <actorkit/actors/error.hpp>
#include <actorkit/actors/type_ids.hpp>

namespace actorkit {

/// Adds actorkit's type-ID block and error category to `cfg`. Safe to call
/// more than once.
void configure(caf::actor_system_config& cfg);

/// An actor system config with actorkit registered and its options declared:
/// `--actorkit.log-level=<trace|debug|info|warn|error|critical|off>`.
class config : public caf::actor_system_config {
public:
  config();

  /// Parses like caf::actor_system_config, then applies actorkit's options:
  /// a refused value fails the parse, so CAF_MAIN reports it and exits with
  /// EXIT_FAILURE before the actor system starts.
  caf::error parse(int argc, char** argv, const char* ini_file_cstr = nullptr);

  using caf::actor_system_config::parse;
};

/// Applies actorkit's options read by `cfg` (the log level). Answers
/// `error::invalid_config` naming the option when a value is refused.
caf::error apply_options(const caf::actor_system_config& cfg);

} // namespace actorkit
