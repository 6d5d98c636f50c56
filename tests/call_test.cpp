#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/patterns/call.hpp>
#include <actorkit/patterns/parallel.hpp>

#include "fixtures/virtual_time.hpp"
#include "test_util.hpp"

using namespace actorkit;
using namespace actorkit::test;

BOOST_FIXTURE_TEST_SUITE(call_suite, virtual_time_fixture)

BOOST_AUTO_TEST_CASE(ask_packs_target_and_message) {
  auto svc = echo(1ms);
  auto c = ask<int64_t>(svc.actor, ask_atom_v, int64_t{7});
  BOOST_TEST((c.target == svc.actor));
  BOOST_REQUIRE(c.content.size() == 2u);
  BOOST_TEST(c.content.get_as<int64_t>(1) == 7);
}

BOOST_AUTO_TEST_CASE(ask_accepts_typed_handles) {
  using doubler = caf::typed_actor<caf::replies_to<int64_t>::with<int64_t>>;
  auto d =
      spawn([]() -> doubler::behavior_type { return {[](int64_t x) { return x * 2; }}; });
  std::vector<call<int64_t>> calls{ask<int64_t>(d, int64_t{21})};
  auto out = start<caf::expected<std::vector<int64_t>>>(
      [=](auto* self, auto done) { all(self, calls, done); });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == std::vector<int64_t>{42});
}

BOOST_AUTO_TEST_CASE(a_reply_of_the_wrong_type_fails_the_call) {
  auto svc = echo(1ms);
  // The service answers strings with strings, not int64_t.
  std::vector<call<int64_t>> calls{ask<int64_t>(svc.actor, ask_atom_v, std::string{"x"})};
  auto out = start<caf::expected<std::vector<int64_t>>>(
      [=](auto* self, auto done) { all(self, calls, done); });
  run();
  advance(1ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->error() == caf::sec::unexpected_response);
}

BOOST_AUTO_TEST_CASE(options_validate_each_field) {
  BOOST_TEST(!validate(call_options{}));
  auto bad_timeout = validate(call_options{}.with_timeout(caf::timespan::zero()));
  BOOST_TEST(bad_timeout == error::invalid_config);
  BOOST_TEST(sys.render(bad_timeout).find("timeout") != std::string::npos);
  auto bad_deadline = validate(call_options{}.with_deadline(-1s));
  BOOST_TEST(bad_deadline == error::invalid_config);
  BOOST_TEST(sys.render(bad_deadline).find("deadline") != std::string::npos);
  BOOST_TEST(!validate(call_options{}.with_timeout(no_limit)));
}

BOOST_AUTO_TEST_CASE(no_limit_timeout_waits_for_a_late_answer) {
  auto svc = echo(1h);
  std::vector<call<int64_t>> calls{ask_int(svc, 3)};
  auto opts = call_options{}.with_timeout(no_limit);
  auto out = start<caf::expected<std::vector<int64_t>>>(
      [=](auto* self, auto done) { all(self, calls, done, opts); });
  run();
  advance(59min);
  BOOST_TEST(!out->done());
  advance(1min);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == std::vector<int64_t>{3});
}

BOOST_AUTO_TEST_CASE(huge_durations_count_as_no_limit_instead_of_overflowing) {
  auto svc = echo(10ms);
  std::vector<call<int64_t>> calls{ask_int(svc, 4)};
  auto opts = call_options{}
                  .with_timeout(no_limit - std::chrono::nanoseconds(1))
                  .with_deadline(no_limit - std::chrono::nanoseconds(1));
  auto out = start<caf::expected<std::vector<int64_t>>>(
      [=](auto* self, auto done) { all(self, calls, done, opts); });
  run();
  BOOST_TEST(!out->done());
  advance(10ms);
  BOOST_REQUIRE(out->done());
  BOOST_TEST(out->value->value() == std::vector<int64_t>{4});
}

BOOST_AUTO_TEST_CASE(deliver_to_forwards_values_and_errors) {
  auto front = spawn([](caf::event_based_actor* self) -> caf::behavior {
    return {[=](int64_t x) {
      auto rp = self->make_response_promise();
      auto deliver = deliver_to(rp);
      if (x < 0)
        deliver(caf::expected<int64_t>{caf::make_error(error::dropped)});
      else
        deliver(caf::expected<int64_t>{x + 1});
    }};
  });
  auto ok = start<caf::expected<int64_t>>([=](auto* self, auto done) {
    self->request(front, caf::infinite, int64_t{1})
        .then([done](int64_t x) mutable { done(caf::expected<int64_t>{x}); },
              [done](caf::error& e) mutable { done(caf::expected<int64_t>{e}); });
  });
  auto bad = start<caf::expected<int64_t>>([=](auto* self, auto done) {
    self->request(front, caf::infinite, int64_t{-1})
        .then([done](int64_t x) mutable { done(caf::expected<int64_t>{x}); },
              [done](caf::error& e) mutable { done(caf::expected<int64_t>{e}); });
  });
  run();
  BOOST_TEST(ok->value->value() == 2);
  BOOST_TEST(bad->value->error() == error::dropped);
}

BOOST_AUTO_TEST_CASE(an_empty_error_answer_fails_the_call) {
  // A target that answers "no error" instead of the value asked for.
  auto blank = spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](ask_atom, int64_t) { return caf::error{}; }};
  });
  std::vector<call<int64_t>> calls{ask_int(blank, 1)};
  auto out = start<caf::expected<std::vector<int64_t>>>(
      [=](auto* self, auto done) { all(self, calls, done); });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_REQUIRE(!*out->value);
  BOOST_TEST(out->value->error() == caf::sec::unexpected_response);
}

BOOST_AUTO_TEST_CASE(deliver_to_self_answers_the_requester_when_the_actor_dies_first) {
  // A target that never answers, and a front that answers through all().
  auto silent = spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](ask_atom, int64_t) -> caf::result<int64_t> {
      return caf::delegated<int64_t>{};
    }};
  });
  auto quick = echo(10ms);
  auto front = spawn([=](caf::event_based_actor* self) -> caf::behavior {
    return {[=](int64_t x) {
      auto rp = self->make_response_promise();
      auto target = x < 0 ? ask_int(silent, x) : ask_int(quick, x);
      all(self, std::vector<call<int64_t>>{target}, deliver_to(self, rp),
          call_options{}.with_timeout(no_limit));
    }};
  });
  auto ask_front = [=](int64_t x) {
    return start<caf::expected<std::vector<int64_t>>>([=](auto* self, auto done) {
      self->request(front, caf::infinite, x)
          .then([done](std::vector<int64_t>& xs) mutable { done(xs); },
                [done](caf::error& e) mutable { done(e); });
    });
  };
  auto answered = ask_front(1);
  auto stranded = ask_front(-1);
  run();
  advance(10ms);
  BOOST_REQUIRE(answered->done());
  BOOST_TEST(answered->value->value() == std::vector<int64_t>{1});
  BOOST_TEST(!stranded->done());
  caf::anon_send_exit(front, caf::exit_reason::kill);
  run();
  BOOST_REQUIRE(stranded->done());
  BOOST_TEST(stranded->value->error() == caf::exit_reason::kill);
  // Each caller was answered once.
  BOOST_TEST(answered->calls == 1);
  BOOST_TEST(stranded->calls == 1);
}

BOOST_AUTO_TEST_CASE(deliver_to_self_answers_a_normal_exit_with_a_real_error) {
  auto silent = spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](ask_atom, int64_t) -> caf::result<int64_t> {
      return caf::delegated<int64_t>{};
    }};
  });
  auto front = spawn([=](caf::event_based_actor* self) -> caf::behavior {
    return {[=](int64_t x) {
      auto rp = self->make_response_promise();
      all(self, std::vector<call<int64_t>>{ask_int(silent, x)}, deliver_to(self, rp),
          call_options{}.with_timeout(no_limit));
      self->quit();
    }};
  });
  auto out = start<caf::expected<std::vector<int64_t>>>([=](auto* self, auto done) {
    self->request(front, caf::infinite, int64_t{1})
        .then([done](std::vector<int64_t>& xs) mutable { done(xs); },
              [done](caf::error& e) mutable { done(e); });
  });
  run();
  BOOST_REQUIRE(out->done());
  BOOST_REQUIRE(!*out->value);
  BOOST_TEST(out->value->error() == caf::sec::request_receiver_down);
}

BOOST_AUTO_TEST_SUITE_END()
