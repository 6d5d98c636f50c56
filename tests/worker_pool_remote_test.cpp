// The worker pool across processes, through CAF's network layer (the
// middleman): workers in another process, a node that is killed while its
// worker runs a task, a remote worker that crashes, and callers in another
// process using a published pool. The other process is
// `actorkit_remote_node` (tests/support/remote_node.cpp), started per test.
// Real scheduler and real sockets on 127.0.0.1, under a watchdog; the tests
// wait for events, never by sleeping.
#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include <actorkit/actors/worker_pool.hpp>

#include "fixtures/remote.hpp"

using namespace actorkit;
using namespace actorkit::test;
using namespace std::chrono_literals;

namespace {

/// Counts parked tasks reported by "park" workers.
caf::behavior watcher(caf::event_based_actor*,
                      std::shared_ptr<completion_counter> parked) {
  return {[parked](put_atom, int64_t) { parked->add(); }};
}

/// The fixture, with the cross-process tests' own helpers.
struct pool_remote_fixture : remote_fixture {
  /// A watcher counting the tasks parked by "park" workers.
  caf::actor make_watcher(std::shared_ptr<completion_counter> parked) {
    auto hdl = sys.spawn(watcher, std::move(parked));
    to_stop.push_back(hdl);
    return hdl;
  }

  /// A worker of `kind` ("echo" or "park") in the node behind `spawner`;
  /// a parked task is reported to `watcher` as (put_atom, x).
  caf::actor remote_worker(const caf::actor& spawner, const std::string& kind,
                           const caf::actor& watcher = {}) {
    caf::scoped_actor self{sys};
    caf::actor result;
    self->request(spawner, 30s, run_atom_v, kind, watcher)
        .receive([&](caf::actor& w) { result = std::move(w); },
                 [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    BOOST_REQUIRE(result);
    BOOST_TEST((result.node() != sys.node()));
    return result;
  }

  /// A pool over `workers`, stopped when the test ends.
  caf::actor spawn_pool(worker_pool_config pcfg, std::vector<caf::actor> workers,
                        worker_factory replace = nullptr) {
    auto pool = spawn_worker_pool(sys, pcfg, std::move(workers), std::move(replace));
    BOOST_REQUIRE(pool);
    to_stop.push_back(*pool);
    return *pool;
  }

  worker_pool_stats stats(const caf::actor& pool) {
    caf::scoped_actor self{sys};
    worker_pool_stats s;
    self->request(pool, 30s, stats_atom_v)
        .receive([&](worker_pool_stats& x) { s = x; },
                 [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
    return s;
  }
};

caf::behavior echo() {
  return {[](ask_atom, int64_t x) { return x; }};
}

/// Answers of one client, by input; `answered` counts them.
struct answers {
  std::mutex mtx;
  std::map<int64_t, std::vector<caf::expected<int64_t>>> by_input;
  completion_counter answered;

  void add(int64_t x, caf::expected<int64_t> r) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      by_input[x].emplace_back(std::move(r));
    }
    answered.add();
  }

  /// True if input x got exactly one answer, the value `expected`.
  bool value_once(int64_t x, int64_t expected) {
    std::lock_guard<std::mutex> guard{mtx};
    auto& rs = by_input[x];
    return rs.size() == 1 && rs[0] && *rs[0] == expected;
  }
};

/// Sends (ask_atom, x) to `pool` for each x in `xs` at once, without a
/// request timeout: every answer must come from the pool itself.
caf::actor ask_all(caf::actor_system& sys, const caf::actor& pool,
                   std::vector<int64_t> xs, std::shared_ptr<answers> out) {
  return sys.spawn([pool, xs, out](caf::event_based_actor* self) {
    for (auto x : xs)
      self->request(pool, caf::infinite, ask_atom_v, x)
          .then([out, x](int64_t y) { out->add(x, y); },
                [out, x](caf::error& err) { out->add(x, std::move(err)); });
  });
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(worker_pool_remote_suite, pool_remote_fixture)

BOOST_AUTO_TEST_CASE(workers_in_another_process_run_the_pools_tasks) {
  node_process node{"workers"};
  auto spawner = connect(node.port());
  std::vector<caf::actor> workers;
  for (int i = 0; i < 3; ++i)
    workers.push_back(remote_worker(spawner, "echo"));
  worker_pool_config pcfg;
  pcfg.max_in_flight_per_worker = 2;
  auto pool = spawn_pool(pcfg, workers);
  auto out = std::make_shared<answers>();
  std::vector<int64_t> xs;
  for (int64_t x = 0; x < 300; ++x)
    xs.push_back(x);
  to_stop.push_back(ask_all(sys, pool, xs, out));
  BOOST_REQUIRE(out->answered.wait_for(300, 60s));
  for (auto x : xs)
    BOOST_TEST(out->value_once(x, x));
  auto s = stats(pool);
  BOOST_TEST(s.completed == 300u);
  BOOST_TEST(s.workers == 3u);
  BOOST_TEST(s.replaced == 0u);
}

BOOST_AUTO_TEST_CASE(a_task_whose_node_is_killed_runs_again_on_another_worker) {
  node_process node{"workers"};
  auto spawner = connect(node.port());
  auto parked = std::make_shared<completion_counter>();
  auto remote = remote_worker(spawner, "park", make_watcher(parked));
  auto local = sys.spawn(echo);
  to_stop.push_back(local);
  worker_pool_config pcfg;
  auto pool = spawn_pool(pcfg, {remote, local});
  // Two tasks on two idle workers: one runs at once on the local worker,
  // the other parks in the other process.
  auto out = std::make_shared<answers>();
  to_stop.push_back(ask_all(sys, pool, {1, 2}, out));
  BOOST_REQUIRE(parked->wait_for(1, 30s));
  BOOST_REQUIRE(out->answered.wait_for(1, 30s));
  // Only the worker's proxy sends its down message: one that any other actor
  // sends about it leaves the worker and its task alone.
  auto forged = caf::make_error(caf::exit_reason::remote_link_unreachable);
  caf::anon_send(pool, caf::down_msg{remote.address(), forged});
  {
    caf::scoped_actor forger{sys};
    forger->send(pool, caf::down_msg{remote.address(), forged});
  }
  auto before = stats(pool);
  BOOST_TEST(before.workers == 2u);
  BOOST_TEST(before.running == 1u);
  BOOST_TEST(before.redelivered == 0u);
  // A plain request to the parked worker would now wait forever: CAF only
  // tells monitors that the node is gone. The pool monitors its workers.
  node.kill();
  BOOST_REQUIRE(out->answered.wait_for(2, 60s));
  BOOST_TEST(out->value_once(1, 1));
  BOOST_TEST(out->value_once(2, 2));
  auto s = stats(pool);
  BOOST_TEST(s.redelivered == 1u);
  BOOST_TEST(s.completed == 2u);
  // A handed-in worker without a factory is not replaced.
  BOOST_TEST(s.workers == 1u);
}

BOOST_AUTO_TEST_CASE(a_remote_worker_that_crashes_is_replaced_and_its_task_runs_again) {
  node_process node{"workers"};
  auto spawner = connect(node.port());
  auto parked = std::make_shared<completion_counter>();
  auto remote = remote_worker(spawner, "park", make_watcher(parked));
  worker_pool_config pcfg;
  auto pool = spawn_pool(pcfg, {remote}, make_worker_factory(echo));
  auto out = std::make_shared<answers>();
  to_stop.push_back(ask_all(sys, pool, {7}, out));
  BOOST_REQUIRE(parked->wait_for(1, 30s));
  // The exit travels to the other process; the worker's down message
  // travels back to the pool, which replaces it through its factory. (The
  // node's spawner, linked to the worker, goes with it.)
  caf::anon_send_exit(remote, caf::exit_reason::kill);
  BOOST_REQUIRE(out->answered.wait_for(1, 60s));
  BOOST_TEST(out->value_once(7, 7));
  auto s = stats(pool);
  BOOST_TEST(s.replaced == 1u);
  BOOST_TEST(s.redelivered == 1u);
  BOOST_TEST(s.workers == 1u);
}

BOOST_AUTO_TEST_CASE(a_task_on_a_hung_node_times_out_and_its_worker_is_replaced) {
  node_process node{"workers"};
  auto spawner = connect(node.port());
  auto remote = remote_worker(spawner, "echo");
  worker_pool_config pcfg;
  pcfg.task_timeout = 2s;
  auto pool = spawn_pool(pcfg, {remote}, make_worker_factory(echo));
  auto out = std::make_shared<answers>();
  to_stop.push_back(ask_all(sys, pool, {1}, out));
  BOOST_REQUIRE(out->answered.wait_for(1, 30s));
  BOOST_TEST(out->value_once(1, 1));
  // The process hangs with its connection open: nothing tells anyone that
  // the worker is gone, but the task runs out of time.
  node.freeze();
  to_stop.push_back(ask_all(sys, pool, {2}, out));
  BOOST_REQUIRE(out->answered.wait_for(2, 30s));
  {
    std::lock_guard<std::mutex> guard{out->mtx};
    auto& rs = out->by_input[2];
    BOOST_REQUIRE(rs.size() == 1u);
    BOOST_TEST((!rs[0] && rs[0].error() == caf::sec::request_timeout));
  }
  // The hung worker was handed in: dropped, not killed, and replaced by a
  // local one through the factory, which runs the next task.
  to_stop.push_back(ask_all(sys, pool, {3}, out));
  BOOST_REQUIRE(out->answered.wait_for(3, 30s));
  BOOST_TEST(out->value_once(3, 3));
  auto s = stats(pool);
  BOOST_TEST(s.timed_out == 1u);
  BOOST_TEST(s.replaced == 1u);
  BOOST_TEST(s.completed == 2u);
  node.kill();
}

BOOST_AUTO_TEST_CASE(callers_in_another_process_use_a_published_pool) {
  node_process node{"pool"};
  auto pool = connect(node.port());
  auto out = std::make_shared<answers>();
  std::vector<int64_t> xs;
  for (int64_t x = 0; x < 200; ++x)
    xs.push_back(x);
  to_stop.push_back(ask_all(sys, pool, xs, out));
  BOOST_REQUIRE(out->answered.wait_for(200, 60s));
  for (auto x : xs)
    BOOST_TEST(out->value_once(x, x));
  caf::scoped_actor self{sys};
  // A prioritized task, a control request and a refused one, all over the
  // network, with actorkit's own error codes intact.
  self->request(pool, 30s, prioritized(5, ask_atom_v, int64_t{42}))
      .receive([](int64_t y) { BOOST_TEST(y == 42); },
               [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  self->request(pool, 30s, resize_atom_v, uint64_t{3})
      .receive([] {}, [&](caf::error& err) { BOOST_FAIL(sys.render(err)); });
  self->request(pool, 30s, resize_atom_v, uint64_t{0})
      .receive([] { BOOST_FAIL("resize to 0 was accepted"); },
               [](caf::error& err) { BOOST_TEST(err == error::invalid_config); });
  auto s = stats(pool);
  BOOST_TEST(s.completed == 201u);
  BOOST_TEST(s.workers == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
