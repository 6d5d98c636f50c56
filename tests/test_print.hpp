// Lets Boost.Test print CAF and actorkit values in failed assertions.
#pragma once

#include <ostream>

#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>

#include <actorkit/actors/error.hpp>

namespace caf {

inline std::ostream& boost_test_print_type(std::ostream& os, const error& x) {
  return os << to_string(x);
}

inline std::ostream& boost_test_print_type(std::ostream& os, sec x) {
  return os << to_string(x);
}

inline std::ostream& boost_test_print_type(std::ostream& os, exit_reason x) {
  return os << to_string(x);
}

} // namespace caf

namespace actorkit {

inline std::ostream& boost_test_print_type(std::ostream& os, error x) {
  return os << to_string(x);
}

} // namespace actorkit
