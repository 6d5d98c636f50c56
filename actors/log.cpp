#include <actorkit/actors/log.hpp>

#include <mutex>
#include <unordered_map>

#include <caf/error.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <actorkit/actors/error.hpp>

namespace actorkit::log {

namespace {

struct registry {
  std::mutex mtx;
  spdlog::level::level_enum lvl = spdlog::level::warn;
  std::shared_ptr<spdlog::sinks::stderr_color_sink_mt> sink =
      std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  std::unordered_map<std::string, std::shared_ptr<spdlog::logger>> loggers;
};

registry& reg() {
  static registry instance;
  return instance;
}

} // namespace

std::shared_ptr<spdlog::logger> get(const std::string& component) {
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  auto name = "actorkit." + component;
  auto i = r.loggers.find(name);
  if (i != r.loggers.end())
    return i->second;
  auto lg = std::make_shared<spdlog::logger>(name, r.sink);
  lg->set_level(r.lvl);
  r.loggers.emplace(name, lg);
  return lg;
}

void set_level(spdlog::level::level_enum lvl) {
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  r.lvl = lvl;
  for (auto& kvp : r.loggers)
    kvp.second->set_level(lvl);
}

caf::error set_level(const std::string& name) {
  static constexpr const char* names[] = {"trace", "debug",    "info", "warn",
                                          "error", "critical", "off"};
  for (size_t i = 0; i < std::size(names); ++i) {
    if (name == names[i]) {
      set_level(static_cast<spdlog::level::level_enum>(i));
      return caf::none;
    }
  }
  return caf::make_error(error::invalid_config,
                         "actorkit.log-level: unknown level '" + name +
                             "' (use trace, debug, info, warn, error, "
                             "critical or off)");
}

spdlog::level::level_enum level() {
  auto& r = reg();
  std::lock_guard<std::mutex> guard{r.mtx};
  return r.lvl;
}

} // namespace actorkit::log
