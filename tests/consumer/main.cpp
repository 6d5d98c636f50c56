// Uses an installed actorkit exactly as an application would: all() over two
// test-double services, from blocking code.
#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/patterns/parallel.hpp>
#include <actorkit/tests/support/scripted_service.hpp>

#include <cstdio>

void caf_main(caf::actor_system& sys, const actorkit::config&) {
  auto a = actorkit::testing::spawn_echo_service(sys, std::chrono::milliseconds(1),
                                                 [](int64_t x) { return x * 2; });
  auto b = actorkit::testing::spawn_echo_service(sys, std::chrono::milliseconds(1),
                                                 [](int64_t x) { return x + 1; });
  caf::scoped_actor self{sys};
  auto r = actorkit::all<int64_t>(
      self, {actorkit::ask<int64_t>(a.actor, actorkit::ask_atom_v, int64_t{20}),
             actorkit::ask<int64_t>(b.actor, actorkit::ask_atom_v, int64_t{1})});
  self->send_exit(a.actor, caf::exit_reason::user_shutdown);
  self->send_exit(b.actor, caf::exit_reason::user_shutdown);
  if (!r || (*r)[0] != 40 || (*r)[1] != 2) {
    std::fprintf(stderr, "consumer: unexpected result\n");
    std::exit(1);
  }
  std::printf("consumer: all -> [%lld, %lld]\n", static_cast<long long>((*r)[0]),
              static_cast<long long>((*r)[1]));
}

CAF_MAIN()
