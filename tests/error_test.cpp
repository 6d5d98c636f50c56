#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/actors/error.hpp>

#include "fixtures/virtual_time.hpp"

using namespace actorkit;

BOOST_FIXTURE_TEST_SUITE(error_suite, actorkit::test::virtual_time_fixture)

BOOST_AUTO_TEST_CASE(codes_have_names) {
  BOOST_TEST(to_string(actorkit::error::superseded) == "superseded");
  BOOST_TEST(to_string(actorkit::error::overloaded) == "overloaded");
  BOOST_TEST(to_string(actorkit::error::all_failed) == "all_failed");
  BOOST_TEST(to_string(actorkit::error::invalid_config) == "invalid_config");
  BOOST_TEST(to_string(actorkit::error::not_owner) == "not_owner");
}

BOOST_AUTO_TEST_CASE(codes_compare_with_caf_errors_of_their_category_only) {
  caf::error e = caf::make_error(actorkit::error::overloaded, "queue full");
  BOOST_TEST(static_cast<bool>(e));
  BOOST_TEST(e == actorkit::error::overloaded);
  BOOST_TEST(e != actorkit::error::dropped);
  BOOST_TEST(e.category() == error_category());
  // Same numeric code, other category: not equal.
  caf::error other = caf::make_error(static_cast<caf::sec>(e.code()));
  BOOST_TEST(other != actorkit::error::overloaded);
}

BOOST_AUTO_TEST_CASE(the_category_renders_code_and_context) {
  auto text = sys.render(
      caf::make_error(actorkit::error::invalid_config, "pool.size must be > 0"));
  BOOST_TEST(text == "actorkit::invalid_config: pool.size must be > 0");
}

BOOST_AUTO_TEST_CASE(all_failed_carries_and_renders_its_causes) {
  std::vector<caf::error> why{caf::make_error(actorkit::error::overloaded),
                              caf::make_error(caf::sec::request_timeout)};
  auto e = caf::make_error(actorkit::error::all_failed, why);
  auto back = causes(e);
  BOOST_REQUIRE(back.size() == 2u);
  BOOST_TEST(back[0] == actorkit::error::overloaded);
  BOOST_TEST(back[1] == caf::sec::request_timeout);
  auto text = sys.render(e);
  BOOST_TEST(text.find("all_failed") != std::string::npos);
  BOOST_TEST(causes(caf::make_error(actorkit::error::overloaded)).empty());
}

BOOST_AUTO_TEST_CASE(errors_with_causes_travel_between_actors) {
  auto echo = spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](actorkit::ask_atom, const caf::error& e) { return e; }};
  });
  auto sent =
      caf::make_error(actorkit::error::all_failed,
                      std::vector<caf::error>{caf::make_error(actorkit::error::dropped)});
  auto out = start<caf::error>([=](auto* self, auto done) {
    self->request(echo, caf::infinite, actorkit::ask_atom_v, sent)
        .then([done](int64_t) mutable { done(caf::error{}); },
              [done](caf::error& e) mutable { done(e); });
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(*out->value == actorkit::error::all_failed);
  BOOST_REQUIRE(causes(*out->value).size() == 1u);
  BOOST_TEST(causes(*out->value)[0] == actorkit::error::dropped);
}

BOOST_AUTO_TEST_SUITE_END()
