#include <actorkit/actors/worker_pool.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include <caf/behavior.hpp>
#include <caf/detail/behavior_impl.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message_view.hpp>
#include <caf/response_promise.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <actorkit/actors/log.hpp>

namespace actorkit {

namespace {

using time_point = caf::actor_clock::time_point;

struct task {
  uint64_t id = 0;
  int32_t priority = 0;
  caf::message content;
  caf::response_promise rp;
  time_point arrived;
  size_t redeliveries = 0;
};

struct running_task {
  task t;
  uint64_t worker = 0;
  time_point started;
  time_point deadline;
};

struct worker_entry {
  caf::actor hdl;
  bool owned = false;
  bool retiring = false;
  size_t in_flight = 0;
  std::vector<uint64_t> tasks;
};

// Everything that holds a caller's response promise lives here, shared with
// the exit path (an attached functor runs after the state is destroyed), so a
// dying pool still answers every caller.
struct pool_core {
  std::map<int32_t, std::deque<task>, std::greater<int32_t>> queue;
  size_t queued = 0;
  std::unordered_map<uint64_t, running_task> running;
  std::vector<caf::response_promise> drain_waiters;
  std::unordered_map<uint64_t, worker_entry> workers;
};

// A bounded window of recent durations for the percentiles.
class sample_window {
public:
  explicit sample_window(size_t capacity = 1) : capacity_(capacity) {}

  void add(caf::timespan x) {
    if (xs_.size() < capacity_) {
      xs_.push_back(x);
      return;
    }
    xs_[next_] = x;
    next_ = (next_ + 1) % capacity_;
  }

  void percentiles(caf::timespan& p50, caf::timespan& p90, caf::timespan& p99) const {
    if (xs_.empty())
      return;
    auto sorted = xs_;
    std::sort(sorted.begin(), sorted.end());
    auto at = [&](size_t pct) { return sorted[(sorted.size() - 1) * pct / 100]; };
    p50 = at(50);
    p90 = at(90);
    p99 = at(99);
  }

private:
  size_t capacity_;
  size_t next_ = 0;
  std::vector<caf::timespan> xs_;
};

struct pool_state {
  static inline const char* name = "actorkit.worker_pool";
  worker_pool_config cfg;
  worker_factory factory;
  std::shared_ptr<pool_core> core;
  // One entry per free slot: worker ids, oldest free first. Entries of
  // workers that left or retire are skipped when popped.
  std::deque<uint64_t> idle;
  // (deadline, task id) in dispatch order; deadlines grow monotonically.
  std::deque<std::pair<time_point, uint64_t>> deadlines;
  bool timer_armed = false;
  uint64_t timer_seq = 0;
  bool paused = false;
  uint64_t next_task = 0;
  uint64_t next_worker = 0;
  worker_pool_stats stats;
  sample_window waits;
  sample_window runs;
  std::shared_ptr<spdlog::logger> log = log::get("pool");
};

using pool_actor = caf::stateful_actor<pool_state>;

void on_reply(pool_actor* self, uint64_t task_id, uint64_t worker_id, caf::message& msg);

// A response handler that accepts any answer: the pool relays whatever the
// worker answers, so the handler cannot be written as typed match cases.
class relay_handler final : public caf::detail::behavior_impl {
public:
  relay_handler(pool_actor* self, uint64_t task_id, uint64_t worker_id)
      : self_(self), task_id_(task_id), worker_id_(worker_id) {
    begin_ = nullptr;
    end_ = nullptr;
  }

  caf::match_case::result invoke(caf::detail::invoke_result_visitor&,
                                 caf::type_erased_tuple& xs) override {
    // The answer is relayed as is: take it out of the mailbox element rather
    // than copying it.
    auto* current = self_->current_mailbox_element();
    auto msg = current != nullptr && &current->content() == &xs
                   ? current->move_content_to_message()
                   : caf::message::copy(xs);
    on_reply(self_, task_id_, worker_id_, msg);
    return caf::match_case::match;
  }

private:
  pool_actor* self_;
  uint64_t task_id_;
  uint64_t worker_id_;
};

bool is_terminated(const caf::actor& hdl) {
  auto ptr = caf::actor_cast<caf::abstract_actor*>(hdl);
  return ptr == nullptr || ptr->getf(caf::abstract_actor::is_terminated_flag);
}

caf::error reason_or(const caf::error& reason, caf::error fallback) {
  return reason ? reason : std::move(fallback);
}

size_t active_workers(const pool_core& core) {
  size_t n = 0;
  for (auto& kvp : core.workers)
    if (!kvp.second.retiring)
      ++n;
  return n;
}

void add_worker(pool_actor* self, caf::actor hdl, bool owned) {
  auto& st = self->state;
  auto id = st.next_worker++;
  self->monitor(hdl);
  worker_entry w;
  w.hdl = std::move(hdl);
  w.owned = owned;
  st.core->workers.emplace(id, std::move(w));
  for (size_t i = 0; i < st.cfg.max_in_flight_per_worker; ++i)
    st.idle.push_back(id);
}

// Starts a worker from the factory; false if there is none or it failed.
bool start_worker(pool_actor* self) {
  auto& st = self->state;
  if (!st.factory)
    return false;
  auto hdl = st.factory(self->system());
  if (!hdl)
    return false;
  add_worker(self, std::move(hdl), true);
  return true;
}

void stop_worker(pool_actor* self, worker_entry& w, caf::error reason) {
  self->demonitor(w.hdl);
  if (w.owned)
    self->send_exit(w.hdl, std::move(reason));
}

bool stale_deadline(pool_core& core, const std::pair<time_point, uint64_t>& x) {
  auto i = core.running.find(x.second);
  return i == core.running.end() || i->second.deadline != x.first;
}

void arm_timer(pool_actor* self) {
  auto& st = self->state;
  auto& core = *st.core;
  while (!st.deadlines.empty() && stale_deadline(core, st.deadlines.front()))
    st.deadlines.pop_front();
  if (st.timer_armed || st.deadlines.empty())
    return;
  st.timer_armed = true;
  auto delay = std::chrono::duration_cast<caf::timespan>(st.deadlines.front().first -
                                                         self->clock().now());
  self->delayed_send(self, std::max(delay, caf::timespan::zero()), expire_atom_v,
                     ++st.timer_seq);
}

void check_drain(pool_actor* self) {
  auto& core = *self->state.core;
  if (core.drain_waiters.empty() || core.queued > 0 || !core.running.empty())
    return;
  auto waiters = std::move(core.drain_waiters);
  core.drain_waiters.clear();
  for (auto& rp : waiters)
    rp.deliver(caf::unit);
}

task pop_task(pool_core& core) {
  for (auto i = core.queue.begin(); i != core.queue.end(); ++i) {
    if (i->second.empty())
      continue;
    auto t = std::move(i->second.front());
    i->second.pop_front();
    --core.queued;
    if (i->second.empty() && i->first != 0)
      core.queue.erase(i);
    return t;
  }
  return {};
}

void run_on(pool_actor* self, uint64_t worker_id, worker_entry& w, task t) {
  auto& st = self->state;
  auto now = self->clock().now();
  st.waits.add(std::chrono::duration_cast<caf::timespan>(now - t.arrived));
  auto task_id = t.id;
  ++w.in_flight;
  w.tasks.push_back(task_id);
  running_task r;
  r.worker = worker_id;
  r.started = now;
  bool bounded = st.cfg.task_timeout != caf::timespan::max();
  if (bounded)
    r.deadline = now + st.cfg.task_timeout;
  auto mid = self->new_request_id(caf::message_priority::normal);
  w.hdl->enqueue(caf::make_mailbox_element(self->ctrl(), mid, {}, t.content),
                 self->context());
  self->add_multiplexed_response_handler(
      mid.response_id(),
      caf::behavior{caf::behavior::impl_ptr{
          caf::make_counted<relay_handler>(self, task_id, worker_id)}});
  r.t = std::move(t);
  if (bounded)
    st.deadlines.emplace_back(r.deadline, task_id);
  st.core->running.emplace(task_id, std::move(r));
  if (bounded)
    arm_timer(self);
}

void dispatch(pool_actor* self) {
  auto& st = self->state;
  auto& core = *st.core;
  while (!st.paused && core.queued > 0 && !st.idle.empty()) {
    auto wid = st.idle.front();
    st.idle.pop_front();
    auto w = core.workers.find(wid);
    if (w == core.workers.end() || w->second.retiring)
      continue;
    run_on(self, wid, w->second, pop_task(core));
  }
}

// Frees one slot of a worker after a task left it.
void release_slot(pool_actor* self, uint64_t worker_id, uint64_t task_id) {
  auto& st = self->state;
  auto w = st.core->workers.find(worker_id);
  if (w == st.core->workers.end())
    return;
  auto& ids = w->second.tasks;
  ids.erase(std::remove(ids.begin(), ids.end(), task_id), ids.end());
  --w->second.in_flight;
  if (w->second.retiring) {
    if (w->second.in_flight == 0) {
      stop_worker(self, w->second, caf::exit_reason::user_shutdown);
      st.core->workers.erase(w);
    }
    return;
  }
  st.idle.push_back(worker_id);
}

void push_front(pool_core& core, task t) {
  auto prio = t.priority;
  core.queue[prio].push_front(std::move(t));
  ++core.queued;
}

// A worker is gone (crashed, or killed by the pool): its other running tasks
// are re-dispatched or quarantined, and a replacement is started.
void worker_lost(pool_actor* self, uint64_t worker_id, const caf::error& reason,
                 bool kill) {
  auto& st = self->state;
  auto& core = *st.core;
  auto wi = core.workers.find(worker_id);
  if (wi == core.workers.end())
    return;
  auto w = std::move(wi->second);
  core.workers.erase(wi);
  if (kill) {
    self->demonitor(w.hdl);
    // A worker the user handed in is only dropped, never stopped by the pool.
    if (w.owned)
      self->send_exit(w.hdl, caf::exit_reason::kill);
  }
  for (auto id : w.tasks) {
    auto ri = core.running.find(id);
    if (ri == core.running.end())
      continue;
    auto t = std::move(ri->second.t);
    core.running.erase(ri);
    if (t.redeliveries < st.cfg.max_redeliveries) {
      ++t.redeliveries;
      ++st.stats.redelivered;
      st.log->info("worker_pool: task {} re-dispatched after its worker failed ({})",
                   t.id, to_string(reason));
      push_front(core, std::move(t));
    } else {
      ++st.stats.quarantined;
      st.log->warn("worker_pool: task {} quarantined after {} redeliveries: {}", t.id,
                   t.redeliveries, to_string(reason));
      t.rp.deliver(reason);
    }
  }
  if (!w.retiring) {
    if (start_worker(self)) {
      ++st.stats.replaced;
      st.log->info("worker_pool: worker replaced ({})", to_string(reason));
    } else {
      st.log->info("worker_pool: worker lost without replacement ({})",
                   to_string(reason));
    }
  }
  if (core.workers.empty()) {
    st.log->warn("worker_pool: no workers left, shutting down");
    self->quit(caf::make_error(error::shut_down, "worker_pool: no workers left"));
    return;
  }
  dispatch(self);
  arm_timer(self);
  check_drain(self);
}

void on_reply(pool_actor* self, uint64_t task_id, uint64_t worker_id, caf::message& msg) {
  auto& st = self->state;
  auto& core = *st.core;
  auto ri = core.running.find(task_id);
  if (ri == core.running.end() || ri->second.worker != worker_id)
    return; // late answer of a task that timed out or was re-dispatched
  bool is_error = msg.match_elements<caf::error>();
  if (is_error) {
    auto wi = core.workers.find(worker_id);
    // A request bounced by a dead worker's mailbox means the worker is gone,
    // whether or not its down message has arrived yet.
    if (wi != core.workers.end() &&
        (is_terminated(wi->second.hdl) ||
         msg.get_as<caf::error>(0) == caf::sec::request_receiver_down)) {
      worker_lost(self, worker_id, msg.get_as<caf::error>(0), false);
      return;
    }
  }
  auto r = std::move(ri->second);
  core.running.erase(ri);
  st.runs.add(std::chrono::duration_cast<caf::timespan>(self->clock().now() - r.started));
  if (is_error)
    ++st.stats.failed;
  else
    ++st.stats.completed;
  r.t.rp.deliver(msg);
  release_slot(self, worker_id, task_id);
  dispatch(self);
  if (!st.deadlines.empty() && stale_deadline(core, st.deadlines.front()) &&
      !st.timer_armed)
    arm_timer(self);
  check_drain(self);
}

void on_expire(pool_actor* self, uint64_t seq) {
  auto& st = self->state;
  auto& core = *st.core;
  if (seq != st.timer_seq)
    return;
  st.timer_armed = false;
  auto now = self->clock().now();
  std::vector<uint64_t> stuck_workers;
  while (!st.deadlines.empty()) {
    auto [deadline, id] = st.deadlines.front();
    if (stale_deadline(core, st.deadlines.front())) {
      st.deadlines.pop_front();
      continue;
    }
    if (deadline > now)
      break;
    st.deadlines.pop_front();
    auto ri = core.running.find(id);
    auto r = std::move(ri->second);
    core.running.erase(ri);
    ++st.stats.timed_out;
    st.log->info("worker_pool: task {} timed out, replacing its worker", id);
    r.t.rp.deliver(caf::make_error(caf::sec::request_timeout));
    auto wi = core.workers.find(r.worker);
    if (wi != core.workers.end()) {
      auto& ids = wi->second.tasks;
      ids.erase(std::remove(ids.begin(), ids.end(), id), ids.end());
      --wi->second.in_flight;
    }
    stuck_workers.push_back(r.worker);
  }
  for (auto wid : stuck_workers)
    worker_lost(self, wid, caf::make_error(caf::sec::request_timeout), true);
  if (self->getf(caf::abstract_actor::is_terminated_flag))
    return;
  dispatch(self);
  arm_timer(self);
  check_drain(self);
}

void submit(pool_actor* self, int32_t priority, caf::message content,
            caf::response_promise rp) {
  auto& st = self->state;
  auto& core = *st.core;
  task t;
  t.id = st.next_task++;
  t.priority = priority;
  t.content = std::move(content);
  t.rp = std::move(rp);
  t.arrived = self->clock().now();
  if (core.queued >= st.cfg.queue_capacity) {
    if (st.cfg.overflow == overflow_policy::reject_newest) {
      ++st.stats.rejected;
      t.rp.deliver(caf::make_error(error::overloaded, "worker_pool: queue full"));
      return;
    }
    // The oldest task of the lowest priority goes, the new one included.
    auto lowest = std::find_if(core.queue.rbegin(), core.queue.rend(),
                               [](auto& kvp) { return !kvp.second.empty(); });
    ++st.stats.dropped;
    if (lowest == core.queue.rend() || priority < lowest->first) {
      t.rp.deliver(caf::make_error(error::dropped, "worker_pool: queue full"));
      return;
    }
    lowest->second.front().rp.deliver(
        caf::make_error(error::dropped, "worker_pool: dropped for newer work"));
    lowest->second.pop_front();
    --core.queued;
  }
  core.queue[priority].push_back(std::move(t));
  ++core.queued;
  dispatch(self);
}

void shut_down(pool_actor* self) {
  auto& core = *self->state.core;
  auto err = caf::make_error(error::shut_down, "worker_pool: shut down");
  for (auto& kvp : core.queue)
    for (auto& t : kvp.second)
      t.rp.deliver(err);
  core.queue.clear();
  core.queued = 0;
  for (auto& kvp : core.running)
    kvp.second.t.rp.deliver(err);
  core.running.clear();
  for (auto& rp : core.drain_waiters)
    rp.deliver(err);
  core.drain_waiters.clear();
}

caf::error resize(pool_actor* self, uint64_t n) {
  auto& st = self->state;
  auto& core = *st.core;
  if (n == 0)
    return caf::make_error(error::invalid_config, "worker_pool: resize to 0 workers");
  auto active = active_workers(core);
  if (n > active) {
    if (!st.factory)
      return caf::make_error(error::invalid_config,
                             "worker_pool: cannot grow without a worker factory");
    for (auto i = active; i < n; ++i)
      if (!start_worker(self))
        return caf::make_error(error::invalid_config,
                               "worker_pool: the factory failed to start a worker");
    st.log->info("worker_pool: grew from {} to {} workers", active, n);
    dispatch(self);
    return caf::none;
  }
  // Shrink: idle workers leave at once, busy ones finish their tasks first.
  auto excess = active - n;
  std::vector<uint64_t> leaving;
  for (int pass = 0; pass < 2 && leaving.size() < excess; ++pass)
    for (auto& kvp : core.workers) {
      if (leaving.size() == excess)
        break;
      auto& w = kvp.second;
      if (w.retiring || (pass == 0 && w.in_flight > 0))
        continue;
      w.retiring = true;
      leaving.push_back(kvp.first);
    }
  for (auto id : leaving) {
    auto wi = core.workers.find(id);
    if (wi->second.in_flight == 0) {
      stop_worker(self, wi->second, caf::exit_reason::user_shutdown);
      core.workers.erase(wi);
    }
  }
  st.log->info("worker_pool: shrank from {} to {} workers", active, n);
  return caf::none;
}

worker_pool_stats make_stats(pool_actor* self) {
  auto& st = self->state;
  auto s = st.stats;
  s.workers = active_workers(*st.core);
  s.queued = st.core->queued;
  s.running = st.core->running.size();
  st.waits.percentiles(s.wait_p50, s.wait_p90, s.wait_p99);
  st.runs.percentiles(s.run_p50, s.run_p90, s.run_p99);
  return s;
}

caf::behavior pool_impl(pool_actor* self, worker_pool_config cfg, worker_factory factory,
                        std::vector<caf::actor> initial, bool owned) {
  auto& st = self->state;
  st.cfg = cfg;
  st.factory = std::move(factory);
  st.waits = sample_window{cfg.latency_samples};
  st.runs = sample_window{cfg.latency_samples};
  auto core = std::make_shared<pool_core>();
  st.core = core;
  self->attach_functor([core](const caf::error& reason) {
    auto err = reason_or(
        reason, caf::make_error(error::shut_down, "worker_pool: the pool exited"));
    for (auto& kvp : core->queue)
      for (auto& t : kvp.second)
        t.rp.deliver(err);
    for (auto& kvp : core->running)
      kvp.second.t.rp.deliver(err);
    for (auto& rp : core->drain_waiters)
      rp.deliver(err);
    for (auto& kvp : core->workers)
      if (kvp.second.owned)
        caf::anon_send_exit(kvp.second.hdl, caf::exit_reason::user_shutdown);
    core->queue.clear();
    core->running.clear();
    core->drain_waiters.clear();
    core->workers.clear();
  });
  for (auto& hdl : initial)
    add_worker(self, std::move(hdl), owned);
  self->set_down_handler([self](caf::down_msg& dm) {
    for (auto& kvp : self->state.core->workers)
      if (kvp.second.hdl.address() == dm.source) {
        auto reason = reason_or(dm.reason, caf::make_error(caf::exit_reason::normal));
        worker_lost(self, kvp.first, reason, false);
        return;
      }
  });
  self->set_default_handler(
      [self](caf::scheduled_actor*, caf::message_view& xs) -> caf::result<caf::message> {
        auto rp = self->make_response_promise();
        submit(self, 0, xs.move_content_to_message(), rp);
        return rp;
      });
  return {
      [self](prio_atom, int32_t priority,
             caf::message& content) -> caf::result<caf::message> {
        auto rp = self->make_response_promise();
        submit(self, priority, std::move(content), rp);
        return rp;
      },
      [self](resize_atom, uint64_t n) -> caf::result<void> {
        if (auto err = resize(self, n))
          return err;
        return caf::unit;
      },
      [self](pause_atom) {
        self->state.paused = true;
        self->state.log->info("worker_pool: paused");
      },
      [self](resume_atom) {
        self->state.paused = false;
        self->state.log->info("worker_pool: resumed");
        dispatch(self);
      },
      [self](drain_atom) -> caf::result<void> {
        auto& core = *self->state.core;
        if (core.queued == 0 && core.running.empty())
          return caf::unit;
        if (core.drain_waiters.size() >= self->state.cfg.max_drain_waiters)
          return caf::make_error(error::overloaded,
                                 "worker_pool: too many drain requests");
        auto rp = self->make_response_promise();
        core.drain_waiters.push_back(rp);
        return rp;
      },
      [self](shutdown_atom) {
        self->state.log->info("worker_pool: shutting down");
        shut_down(self);
        self->quit();
      },
      [self](stats_atom) { return make_stats(self); },
      [self](expire_atom, uint64_t seq) {
        // The pool's own timer only: from anyone else it changes nothing.
        if (self->current_sender().get() == self->ctrl())
          on_expire(self, seq);
      },
  };
}

} // namespace

caf::error validate(const worker_pool_config& cfg, bool check_workers) {
  auto refuse = [](const char* what) {
    return caf::make_error(error::invalid_config,
                           std::string{"worker_pool_config."} + what);
  };
  if (check_workers && cfg.workers == 0)
    return refuse("workers must be at least 1");
  if (cfg.max_in_flight_per_worker == 0)
    return refuse("max_in_flight_per_worker must be at least 1");
  if (cfg.queue_capacity == 0)
    return refuse("queue_capacity must be at least 1");
  if (cfg.task_timeout <= caf::timespan::zero())
    return refuse("task_timeout must be positive");
  if (cfg.latency_samples == 0)
    return refuse("latency_samples must be at least 1");
  if (cfg.max_drain_waiters == 0)
    return refuse("max_drain_waiters must be at least 1");
  return caf::none;
}

caf::expected<caf::actor> spawn_worker_pool(caf::actor_system& sys,
                                            worker_pool_config cfg,
                                            worker_factory factory) {
  if (auto err = validate(cfg))
    return err;
  if (!factory)
    return caf::make_error(error::invalid_config, "worker_pool: the factory is empty");
  // The initial workers start here, so that a failing factory is reported to
  // the caller instead of leaving a half-built pool.
  std::vector<caf::actor> started;
  for (size_t i = 0; i < cfg.workers; ++i) {
    auto hdl = factory(sys);
    if (!hdl) {
      for (auto& w : started)
        caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
      return caf::make_error(error::invalid_config,
                             "worker_pool: the factory failed to start a worker");
    }
    started.push_back(std::move(hdl));
  }
  return caf::actor_cast<caf::actor>(
      sys.spawn(pool_impl, cfg, std::move(factory), std::move(started), true));
}

caf::expected<caf::actor> spawn_worker_pool(caf::actor_system& sys,
                                            worker_pool_config cfg,
                                            std::vector<caf::actor> workers,
                                            worker_factory replace) {
  if (auto err = validate(cfg, false))
    return err;
  if (workers.empty())
    return caf::make_error(error::invalid_config,
                           "worker_pool: workers must hold at least one actor");
  if (std::any_of(workers.begin(), workers.end(), [](auto& w) { return !w; }))
    return caf::make_error(error::invalid_config,
                           "worker_pool: workers holds a null actor");
  return caf::actor_cast<caf::actor>(
      sys.spawn(pool_impl, cfg, std::move(replace), std::move(workers), false));
}

} // namespace actorkit
