#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/tests/support/scripted_service.hpp>

#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;
using actorkit::testing::reaction;

namespace {

using one_result = caf::expected<int64_t>;

struct fixture : virtual_time_fixture {
  std::shared_ptr<outcome<one_result>> ask_once(const caf::actor& svc, int64_t x,
                                                caf::timespan timeout = 10s) {
    return start<one_result>([=](auto* self, auto done) {
      self->request(svc, timeout, ask_atom_v, x)
          .then([done](int64_t y) mutable { done(one_result{y}); },
                [done](caf::error& e) mutable { done(one_result{e}); });
    });
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(scripted_service_suite, fixture)

BOOST_AUTO_TEST_CASE(answers_after_its_latency) {
  auto svc = echo(25ms, [](int64_t x) { return x + 1; });
  auto out = ask_once(svc.actor, 1);
  run();
  advance(24ms);
  BOOST_TEST(!out->done());
  advance(1ms);
  BOOST_TEST(out->value->value() == 2);
  BOOST_TEST(svc.counters->replied == 1u);
}

BOOST_AUTO_TEST_CASE(follows_its_script_then_by_input_then_otherwise) {
  testing::scripted_service_config c;
  c.script = {reaction::fail_with(caf::make_error(error::overloaded))};
  c.by_input = [](int64_t x) {
    return x == 7 ? reaction::fail_with(caf::make_error(error::dropped))
                  : reaction::reply_after(caf::timespan::zero());
  };
  auto svc = service(std::move(c));
  auto first = ask_once(svc.actor, 1);
  run();
  auto second = ask_once(svc.actor, 7);
  run();
  auto third = ask_once(svc.actor, 3);
  run();
  BOOST_TEST(first->value->error() == error::overloaded);
  BOOST_TEST(second->value->error() == error::dropped);
  BOOST_TEST(third->value->value() == 3);
  BOOST_TEST(svc.counters->calls == 3u);
  BOOST_TEST(svc.counters->failed == 2u);
}

BOOST_AUTO_TEST_CASE(a_silent_service_never_answers_until_it_exits) {
  testing::scripted_service_config c;
  c.otherwise = reaction::never();
  auto svc = service(std::move(c));
  auto out = ask_once(svc.actor, 1, 1h);
  run();
  advance(30min);
  BOOST_TEST(!out->done());
  BOOST_TEST(svc.counters->in_flight == 1u);
  caf::anon_send_exit(svc.actor, caf::exit_reason::user_shutdown);
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::exit_reason::user_shutdown);
}

BOOST_AUTO_TEST_CASE(a_dying_service_answers_with_its_exit_reason) {
  testing::scripted_service_config c;
  c.otherwise =
      reaction::die_with(caf::make_error(caf::exit_reason::unhandled_exception), 5ms);
  auto svc = service(std::move(c));
  auto a = ask_once(svc.actor, 1);
  auto b = ask_once(svc.actor, 2);
  run();
  advance(5ms);
  BOOST_REQUIRE(a->done());
  BOOST_REQUIRE(b->done());
  BOOST_TEST(a->value->error() == caf::exit_reason::unhandled_exception);
  BOOST_TEST(b->value->error() == caf::exit_reason::unhandled_exception);
  auto late = ask_once(svc.actor, 3);
  run();
  BOOST_TEST(late->value->error() == caf::sec::request_receiver_down);
}

BOOST_AUTO_TEST_CASE(counts_calls_and_the_most_requests_in_flight) {
  auto svc = echo(10ms);
  for (int i = 0; i < 5; ++i)
    ask_once(svc.actor, i);
  run();
  BOOST_TEST(svc.counters->in_flight == 5u);
  advance(10ms);
  BOOST_TEST(svc.counters->in_flight == 0u);
  BOOST_TEST(svc.counters->max_in_flight == 5u);
  BOOST_TEST(svc.counters->calls == 5u);
}

BOOST_AUTO_TEST_CASE(stats_and_reset_work_as_messages) {
  auto svc = echo(caf::timespan::zero());
  ask_once(svc.actor, 1);
  run();
  using stats = std::tuple<uint64_t, uint64_t, uint64_t>;
  auto query = [&] {
    return start<stats>([=](auto* self, auto done) {
      self->request(svc.actor, 1s, stats_atom_v)
          .then([done](uint64_t calls, uint64_t in_flight, uint64_t max) mutable {
            done(stats{calls, in_flight, max});
          });
    });
  };
  auto before = query();
  run();
  BOOST_TEST(std::get<0>(*before->value) == 1u);
  BOOST_TEST(std::get<2>(*before->value) == 1u);
  caf::anon_send(svc.actor, reset_atom_v);
  run();
  auto after = query();
  run();
  BOOST_TEST(std::get<0>(*after->value) == 0u);
  BOOST_TEST(std::get<2>(*after->value) == 0u);
}

BOOST_AUTO_TEST_CASE(too_many_parked_requests_are_answered_overloaded) {
  testing::scripted_service_config c;
  c.otherwise = reaction::never();
  c.max_parked = 2;
  auto svc = service(std::move(c));
  auto a = ask_once(svc.actor, 1);
  auto b = ask_once(svc.actor, 2);
  auto third = ask_once(svc.actor, 3);
  run();
  BOOST_REQUIRE(third->done());
  BOOST_TEST(third->value->error() == error::overloaded);
  BOOST_TEST(!a->done());
}

BOOST_AUTO_TEST_CASE(answers_strings_with_its_string_function) {
  testing::scripted_service_config c;
  c.string_fn = [](const std::string& s) { return s + "!"; };
  auto svc = service(std::move(c));
  auto out = start<caf::expected<std::string>>([=](auto* self, auto done) {
    self->request(svc.actor, 1s, ask_atom_v, std::string{"hi"})
        .then([done](std::string& s) mutable { done(caf::expected<std::string>{s}); });
  });
  run();
  BOOST_TEST(out->value->value() == "hi!");
}

BOOST_AUTO_TEST_SUITE_END()
