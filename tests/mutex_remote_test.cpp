// The mutex across processes: a holder in another process
// (`actorkit_remote_node`, tests/support/remote_node.cpp) whose process is
// killed while it holds the lock. Real scheduler and real sockets on
// 127.0.0.1, under a watchdog; the test waits for events, never by sleeping.
#include <boost/test/unit_test.hpp>

#include <caf/all.hpp>

#include <actorkit/actors/mutex.hpp>

#include "fixtures/remote.hpp"

using namespace actorkit;
using namespace actorkit::test;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(mutex_remote_suite, remote_fixture)

BOOST_AUTO_TEST_CASE(the_lock_passes_on_when_its_holders_process_is_killed) {
  node_process node{"workers"};
  auto spawner = connect(node.port());
  auto m = spawn_mutex(sys);
  BOOST_REQUIRE(m);
  auto mutex = caf::actor_cast<caf::actor>(*m);
  to_stop.push_back(mutex);
  caf::scoped_actor self{sys};
  // An actor in the other process takes the lock and keeps it.
  self->request(spawner, 30s, acquire_atom_v, mutex)
      .receive([](uint64_t token) { BOOST_TEST(token == 1u); },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  // This actor waits behind it (its stats request is handled after its
  // acquire: both come from the same sender).
  auto waiting = self->request(*m, 60s, acquire_atom_v, no_limit, no_limit);
  self->request(*m, 30s, stats_atom_v)
      .receive(
          [&](mutex_stats& s) {
            BOOST_TEST(s.token == 1u);
            BOOST_TEST(s.queued == 1u);
            BOOST_TEST((s.holder.node() != sys.node()));
          },
          [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  // The holder never releases; its process dies. The mutex monitors its
  // holder, and CAF tells monitors that the process is gone.
  node.kill();
  waiting.receive(
      [&](lease& l) {
        BOOST_TEST(l.token == 2u);
        BOOST_TEST((l.holder == self->address()));
        self->send(*m, release_atom_v, l);
      },
      [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  self->request(*m, 30s, stats_atom_v)
      .receive(
          [&](mutex_stats& s) {
            BOOST_TEST(s.releases_by_death == 1u);
            BOOST_TEST(s.releases == 1u);
            BOOST_TEST(s.token == 0u);
          },
          [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
}

BOOST_AUTO_TEST_SUITE_END()
