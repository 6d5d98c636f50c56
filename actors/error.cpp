#include <actorkit/actors/error.hpp>

#include <caf/atom.hpp>
#include <caf/message.hpp>

namespace actorkit {

std::string to_string(error x) {
  switch (x) {
  case error::none:
    return "none";
  case error::superseded:
    return "superseded";
  case error::overloaded:
    return "overloaded";
  case error::circuit_open:
    return "circuit_open";
  case error::all_failed:
    return "all_failed";
  case error::invalid_config:
    return "invalid_config";
  case error::lease_expired:
    return "lease_expired";
  case error::not_owner:
    return "not_owner";
  case error::dropped:
    return "dropped";
  case error::cancelled:
    return "cancelled";
  case error::deadline_exceeded:
    return "deadline_exceeded";
  case error::shut_down:
    return "shut_down";
  case error::quarantined:
    return "quarantined";
  }
  return "error(" + std::to_string(static_cast<int>(x)) + ")";
}

std::vector<caf::error> causes(const caf::error& x) {
  if (x != error::all_failed)
    return {};
  const auto& ctx = x.context();
  if (ctx.match_elements<std::vector<caf::error>>())
    return ctx.get_as<std::vector<caf::error>>(0);
  return {};
}

caf::atom_value error_category() {
  return caf::atom("actorkit");
}

} // namespace actorkit
