#include <actorkit/actors/config.hpp>

#include <caf/atom.hpp>
#include <caf/message.hpp>

#include <actorkit/actors/latest_wins.hpp>
#include <actorkit/actors/log.hpp>
#include <actorkit/actors/mutex.hpp>

namespace actorkit {

namespace {

std::string render_error(uint8_t code, caf::atom_value, const caf::message& ctx) {
  auto result = "actorkit::" + to_string(static_cast<error>(code));
  if (ctx.empty())
    return result;
  if (ctx.size() == 1 && ctx.match_element<std::string>(0)) {
    result += ": ";
    result += ctx.get_as<std::string>(0);
  } else if (ctx.size() == 1 && ctx.match_element<std::vector<caf::error>>(0)) {
    result += ": [";
    bool first = true;
    for (auto& cause : ctx.get_as<std::vector<caf::error>>(0)) {
      if (!first)
        result += ", ";
      first = false;
      result += to_string(cause);
    }
    result += "]";
  } else {
    result += ": ";
    result += to_string(ctx);
  }
  return result;
}

} // namespace

void configure(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::actorkit>();
  cfg.add_error_category(error_category(), render_error);
}

config::config() {
  configure(*this);
  opt_group{custom_options_, "actorkit"}.add<std::string>(
      "log-level", "trace, debug, info, warn (default), error, critical or off");
}

caf::error config::parse(int argc, char** argv, const char* ini_file_cstr) {
  if (auto err = caf::actor_system_config::parse(argc, argv, ini_file_cstr))
    return err;
  return apply_options(*this);
}

caf::error apply_options(const caf::actor_system_config& cfg) {
  return log::set_level(caf::get_or(cfg, "actorkit.log-level", "warn"));
}

} // namespace actorkit
