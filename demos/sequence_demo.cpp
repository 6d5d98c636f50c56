// Sequential patterns: the lesson's for-of sequence, reduce and waterfall,
// each step a request to a service actor.
//
// - sequence(): fetchData(1), fetchData(2), fetchData(3), strictly one after
//   another, results in order; a failing step stops the rest.
// - reduce(): a running total kept by an "adder" service, item by item.
// - waterfall(5, [x * 2, x + 10, x / 2]): each step receives the previous
//   answer, giving (5 * 2 + 10) / 2 = 10.
#include <chrono>
#include <iostream>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/patterns/sequential.hpp>
#include <actorkit/tests/support/scripted_service.hpp>

namespace {

using namespace std::chrono_literals;
using actorkit::testing::reaction;
using actorkit::testing::scripted_service;
using actorkit::testing::scripted_service_config;

using calls = std::vector<actorkit::call<int64_t>>;

actorkit::call<int64_t> ask(const scripted_service& svc, int64_t x) {
  return actorkit::ask<int64_t>(svc.actor, actorkit::ask_atom_v, x);
}

scripted_service service(caf::actor_system& sys, const char* name,
                         std::function<int64_t(int64_t)> fn) {
  scripted_service_config cfg;
  cfg.otherwise = reaction::reply_after(20ms);
  cfg.int_fn = [name, fn](int64_t x) {
    auto y = fn(x);
    std::cout << "    " << name << "(" << x << ") = " << y << "\n";
    return y;
  };
  return actorkit::testing::spawn_scripted_service(sys, std::move(cfg));
}

} // namespace

void sequence_scenario(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  auto data = service(sys, "fetchData", [](int64_t id) { return id * 11; });
  std::cout << "sequence(): fetchData(1..3), one after another\n";
  auto fetched =
      actorkit::sequence(self, calls{ask(data, 1), ask(data, 2), ask(data, 3)});
  std::cout << "  results:";
  for (auto x : fetched.value())
    std::cout << " " << x;
  std::cout << "\n";

  scripted_service_config broken_cfg;
  broken_cfg.script = {
      reaction::reply_after(10ms),
      reaction::fail_with(caf::make_error(actorkit::error::overloaded), 10ms)};
  auto broken = actorkit::testing::spawn_scripted_service(sys, std::move(broken_cfg));
  auto stopped =
      actorkit::sequence(self, calls{ask(broken, 1), ask(broken, 2), ask(broken, 3)});
  std::cout << "  with a failing second step: " << sys.render(stopped.error()) << ", "
            << broken.counters->calls << " of 3 steps ran\n";

  // The adder receives acc * 1000 + item and answers acc + item.
  auto adder =
      service(sys, "add", [](int64_t packed) { return packed / 1000 + packed % 1000; });
  std::cout << "\nreduce(): sum of 1..5 through the adder service\n";
  auto sum = actorkit::reduce(self, std::vector<int64_t>{1, 2, 3, 4, 5}, int64_t{0},
                              [&](const int64_t& acc, const int64_t& item) {
                                return ask(adder, acc * 1000 + item);
                              });
  std::cout << "  total: " << sum.value() << "\n";

  auto times2 = service(sys, "times2", [](int64_t x) { return x * 2; });
  auto plus10 = service(sys, "plus10", [](int64_t x) { return x + 10; });
  auto half = service(sys, "half", [](int64_t x) { return x / 2; });
  std::cout << "\nwaterfall(5, [x * 2, x + 10, x / 2])\n";
  auto result = actorkit::waterfall(self, int64_t{5},
                                    std::vector<actorkit::step<int64_t>>{
                                        [&](const int64_t& x) { return ask(times2, x); },
                                        [&](const int64_t& x) { return ask(plus10, x); },
                                        [&](const int64_t& x) { return ask(half, x); }});
  std::cout << "  result: " << result.value() << "\n";
  for (auto* s : {&data, &broken, &adder, &times2, &plus10, &half})
    self->send_exit(s->actor, caf::exit_reason::user_shutdown);
}

#ifndef ACTORKIT_TOUR
void caf_main(caf::actor_system& sys, const actorkit::config& cfg) {
  if (auto err = actorkit::apply_options(cfg)) {
    std::cerr << sys.render(err) << "\n";
    return;
  }
  sequence_scenario(sys);
}

CAF_MAIN()
#endif
