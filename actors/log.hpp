/// Named loggers, one per component: "actorkit.<component>" (for example
/// "actorkit.pool"), all writing to stderr through spdlog. The library never
/// writes to stdout on its own. Levels follow spdlog's names: trace, debug,
/// info, warn, error, critical, off. The default is warn; state changes are
/// logged at info, traffic at debug/trace.
#pragma once

#include <memory>
#include <string>

#include <caf/error.hpp>
#include <spdlog/logger.h>

namespace actorkit::log {

/// The logger of `component`, created on first use with the current level.
/// Thread-safe; the same pointer comes back for the same name.
std::shared_ptr<spdlog::logger> get(const std::string& component);

/// Sets the level of every actorkit logger, present and future.
void set_level(spdlog::level::level_enum level);

/// Sets the level by name; an unknown name is refused with
/// `error::invalid_config` and changes nothing.
caf::error set_level(const std::string& level);

/// The level actorkit loggers currently use.
spdlog::level::level_enum level();

} // namespace actorkit::log
