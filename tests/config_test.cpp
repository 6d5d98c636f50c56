#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/actors/log.hpp>

#include "test_print.hpp"

using namespace actorkit;

namespace {

struct level_guard {
  spdlog::level::level_enum saved = log::level();
  ~level_guard() { log::set_level(saved); }
};

// Parses `args` the way CAF_MAIN does.
caf::error parse(actorkit::config& cfg, std::vector<std::string> args) {
  std::vector<char*> argv{const_cast<char*>("test")};
  for (auto& a : args)
    argv.push_back(a.data());
  return cfg.parse(static_cast<int>(argv.size()), argv.data(), "/nonexistent.ini");
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(config_suite, level_guard)

BOOST_AUTO_TEST_CASE(the_log_level_option_is_applied) {
  actorkit::config cfg;
  BOOST_REQUIRE(!parse(cfg, {"--actorkit.log-level=debug"}));
  BOOST_TEST(!apply_options(cfg));
  BOOST_TEST(log::level() == spdlog::level::debug);
}

BOOST_AUTO_TEST_CASE(a_bad_log_level_is_refused_naming_the_option) {
  // By the parse itself, so that CAF_MAIN exits with a failure.
  log::set_level("error");
  actorkit::config cfg;
  auto err = parse(cfg, {"--actorkit.log-level=chatty"});
  BOOST_TEST(err == actorkit::error::invalid_config);
  BOOST_TEST(log::level() == spdlog::level::err);
  // And by apply_options on any config holding the value.
  actorkit::config plain;
  plain.set("actorkit.log-level", "chatty");
  BOOST_TEST(apply_options(plain) == actorkit::error::invalid_config);
  caf::actor_system sys{plain};
  BOOST_TEST(sys.render(err).find("actorkit.log-level") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(configure_registers_the_type_ids) {
  caf::actor_system_config cfg;
  configure(cfg);
  caf::actor_system sys{cfg};
  BOOST_TEST(sys.types().portable_name(caf::make_rtti_pair<std::vector<caf::error>>()) ==
             "std::vector<caf::error>");
}

BOOST_AUTO_TEST_SUITE_END()
