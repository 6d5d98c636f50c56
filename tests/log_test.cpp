#include <boost/test/unit_test.hpp>

#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include <actorkit/actors/error.hpp>
#include <actorkit/actors/log.hpp>

#include "test_print.hpp"

using namespace actorkit;

namespace {

// Restores the level after each test: the registry is process-wide.
struct level_guard {
  spdlog::level::level_enum saved = log::level();
  ~level_guard() { log::set_level(saved); }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(log_suite, level_guard)

BOOST_AUTO_TEST_CASE(loggers_are_named_per_component_and_shared) {
  auto a = log::get("pool");
  auto b = log::get("pool");
  auto c = log::get("breaker");
  BOOST_TEST(a->name() == "actorkit.pool");
  BOOST_TEST(c->name() == "actorkit.breaker");
  BOOST_TEST(a.get() == b.get());
}

BOOST_AUTO_TEST_CASE(set_level_reaches_present_and_future_loggers) {
  auto before = log::get("log_test_present");
  log::set_level(spdlog::level::debug);
  BOOST_TEST(before->level() == spdlog::level::debug);
  auto after = log::get("log_test_future");
  BOOST_TEST(after->level() == spdlog::level::debug);
}

BOOST_AUTO_TEST_CASE(levels_are_set_by_name) {
  BOOST_TEST(!log::set_level(std::string{"info"}));
  BOOST_TEST(log::level() == spdlog::level::info);
  BOOST_TEST(!log::set_level(std::string{"off"}));
  BOOST_TEST(log::level() == spdlog::level::off);
}

BOOST_AUTO_TEST_CASE(unknown_level_names_are_refused_and_change_nothing) {
  log::set_level(spdlog::level::err);
  auto err = log::set_level(std::string{"loud"});
  BOOST_TEST(err == actorkit::error::invalid_config);
  BOOST_TEST(log::level() == spdlog::level::err);
}

BOOST_AUTO_TEST_CASE(messages_below_the_level_are_filtered) {
  std::ostringstream os;
  auto lg = log::get("log_test_filter");
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(os);
  lg->sinks().push_back(sink);
  log::set_level(spdlog::level::warn);
  lg->info("hidden");
  lg->warn("shown");
  lg->flush();
  lg->sinks().pop_back();
  BOOST_TEST(os.str().find("hidden") == std::string::npos);
  BOOST_TEST(os.str().find("shown") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
