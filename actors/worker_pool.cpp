#include <actorkit/actors/worker_pool.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include <caf/actor_config.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/default_attachable.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/make_actor.hpp>
#include <caf/monitorable_actor.hpp>
#include <caf/ref_counted.hpp>
#include <caf/resumable.hpp>
#include <caf/scheduler/abstract_coordinator.hpp>
#include <caf/sec.hpp>
#include <caf/send.hpp>
#include <caf/system_messages.hpp>
#include <caf/type_nr.hpp>

#include <actorkit/actors/detail/pending_timers.hpp>
#include <actorkit/actors/detail/subscribers.hpp>
#include <actorkit/actors/log.hpp>
#include <actorkit/patterns/call.hpp>

namespace actorkit {

namespace {

using time_point = caf::actor_clock::time_point;

/// Where an answer goes: the caller of a task or control request.
struct reply_to {
  caf::strong_actor_ptr sender;
  caf::message_id mid;
  caf::mailbox_element::forwarding_stack stages;
};

reply_to take_reply_to(caf::mailbox_element& x) {
  return {std::move(x.sender), x.mid, std::move(x.stages)};
}

struct task {
  uint64_t id = 0;
  int32_t priority = 0;
  // Back in the queue after running: exempt from the queue timeout, and its
  // wait counted once. (Beside `priority`, to keep the record at 88 bytes.)
  bool requeued = false;
  // It ran again once already, uncounted, after a task beside it got stuck.
  bool stuck_rerun = false;
  // The caller's own mailbox element until the task first goes to a worker,
  // which then gets it as it is (its sender and request ID rewritten); empty
  // for a task wrapped with prioritized(...) and after the first dispatch.
  caf::mailbox_element_ptr elem;
  // The task's content when there is no `elem`: a wrapped task's, or the copy
  // kept at dispatch for a re-dispatch (none with max_redeliveries = 0).
  caf::message content;
  reply_to to;
  time_point arrived;
  size_t redeliveries = 0;
};

struct running_task {
  task t;
  uint64_t worker = 0;
  time_point started;
  time_point deadline;
};

/// The pool's lock. Threads that find it taken never wait: they leave their
/// message in the pool's inbox for the holder (see worker_pool_actor::drain).
class spin_lock {
public:
  bool try_lock() { return !flag_.exchange(true, std::memory_order_seq_cst); }

  void lock() {
    while (!try_lock())
      std::this_thread::yield();
  }

  void unlock() { flag_.store(false, std::memory_order_seq_cst); }

private:
  std::atomic<bool> flag_{false};
};

/// Messages to the pool not handled yet: a lock-free stack, taken whole by
/// the lock holder.
class inbox {
public:
  ~inbox() { delete_all(take_all()); }

  void push(caf::mailbox_element_ptr ptr) {
    auto* x = ptr.release();
    auto* head = head_.load(std::memory_order_relaxed);
    do {
      x->next = head;
    } while (!head_.compare_exchange_weak(head, x, std::memory_order_seq_cst,
                                          std::memory_order_relaxed));
  }

  bool empty() const { return head_.load(std::memory_order_seq_cst) == nullptr; }

  /// Everything pushed so far, oldest first, as a linked list.
  caf::mailbox_element* take_all() {
    auto* x = head_.exchange(nullptr, std::memory_order_seq_cst);
    caf::mailbox_element* fifo = nullptr;
    while (x != nullptr) {
      auto* next = static_cast<caf::mailbox_element*>(x->next);
      x->next = fifo;
      fifo = x;
      x = next;
    }
    return fifo;
  }

  /// Unlinks the first element of a list from take_all.
  static caf::mailbox_element_ptr pop(caf::mailbox_element*& list) {
    auto* x = list;
    list = static_cast<caf::mailbox_element*>(x->next);
    x->next = nullptr;
    return caf::mailbox_element_ptr{x};
  }

private:
  static void delete_all(caf::mailbox_element* list) {
    while (list != nullptr)
      pop(list);
  }

  std::atomic<caf::mailbox_element*> head_{nullptr};
};

/// A FIFO queue in one growing ring buffer (std::deque allocates a block
/// every few tasks of this size).
template <class T>
class ring_queue {
public:
  bool empty() const { return size_ == 0; }

  size_t size() const { return size_; }

  T& front() { return buf_[head_]; }

  T& at(size_t i) { return buf_[(head_ + i) & (buf_.size() - 1)]; }

  void push_back(T x) {
    grow();
    buf_[(head_ + size_) & (buf_.size() - 1)] = std::move(x);
    ++size_;
  }

  void push_front(T x) {
    grow();
    head_ = (head_ + buf_.size() - 1) & (buf_.size() - 1);
    buf_[head_] = std::move(x);
    ++size_;
  }

  // The element is moved out; its moved-from husk stays in the buffer (the
  // types kept here hold nothing after a move).
  T pop_front() {
    auto x = std::move(buf_[head_]);
    head_ = (head_ + 1) & (buf_.size() - 1);
    --size_;
    return x;
  }

  template <class F>
  void for_each(F f) {
    for (size_t i = 0; i < size_; ++i)
      f(buf_[(head_ + i) & (buf_.size() - 1)]);
  }

  /// Makes room for `n` elements in all, so that pushing up to that many
  /// allocates nothing.
  void reserve(size_t n) {
    if (n <= buf_.size())
      return;
    size_t capacity = std::max(buf_.size(), size_t{8});
    while (capacity < n)
      capacity *= 2;
    reallocate(capacity);
  }

  /// Removes the elements for which `pred` holds, keeping the others in
  /// order; allocates nothing.
  template <class Pred>
  void remove_if(Pred pred) {
    size_t kept = 0;
    for (size_t i = 0; i < size_; ++i) {
      auto& x = at(i);
      if (pred(x))
        continue;
      if (kept != i)
        at(kept) = std::move(x);
      ++kept;
    }
    for (size_t i = kept; i < size_; ++i)
      at(i) = T{};
    size_ = kept;
  }

private:
  void grow() {
    if (size_ < buf_.size())
      return;
    reallocate(std::max(buf_.size() * 2, size_t{8}));
  }

  void reallocate(size_t capacity) {
    std::vector<T> next(capacity);
    for (size_t i = 0; i < size_; ++i)
      next[i] = std::move(buf_[(head_ + i) & (buf_.size() - 1)]);
    buf_ = std::move(next);
    head_ = 0;
  }

  std::vector<T> buf_;
  size_t head_ = 0;
  size_t size_ = 0;
};

/// The running tasks, in slots reused without allocating. A task's key is its
/// slot and the slot's generation (so a late answer for an earlier task in
/// the same slot finds nothing); it is also the request ID of the task's
/// message to its worker. The slots form a list in dispatch order, whose
/// first task has the earliest deadline.
class running_table {
public:
  bool empty() const { return size_ == 0; }

  size_t size() const { return size_; }

  running_task* find(uint64_t key) {
    auto idx = static_cast<size_t>(key & 0xFFFFFFFFu);
    if (idx >= slots_.size())
      return nullptr;
    auto& x = slots_[idx];
    return x.used && x.gen == (key >> 32) ? &x.task : nullptr;
  }

  /// Adds a running task, moving `t` into its slot; returns its key.
  uint64_t insert(task&& t, uint64_t worker, time_point started, time_point deadline) {
    uint32_t idx;
    if (!free_.empty()) {
      idx = free_.back();
      free_.pop_back();
    } else {
      idx = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
      // Room to free every slot later without allocating.
      free_.reserve(slots_.capacity());
    }
    auto& x = slots_[idx];
    // Generations stay below 2^27, so keys are valid request IDs (below
    // 2^60) and never 0.
    x.gen = x.gen % (uint64_t{1} << 27) + 1;
    x.used = true;
    x.task.t = std::move(t);
    x.task.worker = worker;
    x.task.started = started;
    x.task.deadline = deadline;
    x.prev = tail_;
    x.next = npos;
    if (tail_ != npos)
      slots_[tail_].next = idx;
    else
      head_ = idx;
    tail_ = idx;
    ++size_;
    return (x.gen << 32) | idx;
  }

  /// Removes the task with `key`, which must be running.
  running_task take(uint64_t key) {
    auto result = std::move(*find(key));
    erase(key);
    return result;
  }

  /// Removes the task with `key`, which must be running, and releases what
  /// its slot still holds.
  void erase(uint64_t key) {
    auto idx = static_cast<uint32_t>(key & 0xFFFFFFFFu);
    auto& x = slots_[idx];
    (x.prev != npos ? slots_[x.prev].next : head_) = x.next;
    (x.next != npos ? slots_[x.next].prev : tail_) = x.prev;
    x.used = false;
    x.task.t.elem.reset();
    x.task.t.content = caf::message{};
    x.task.t.to = reply_to{};
    free_.push_back(idx);
    --size_;
  }

  /// Key of the earliest dispatched task; the table must not be empty.
  uint64_t first_key() const { return (slots_[head_].gen << 32) | head_; }

  running_task& first() { return slots_[head_].task; }

  template <class F>
  void for_each(F f) {
    for (auto i = head_; i != npos; i = slots_[i].next)
      f(slots_[i].task);
  }

  /// Keys of the tasks running on `worker`, in dispatch order.
  std::vector<uint64_t> keys_of(uint64_t worker) const {
    std::vector<uint64_t> result;
    for (auto i = head_; i != npos; i = slots_[i].next)
      if (slots_[i].task.worker == worker)
        result.push_back((slots_[i].gen << 32) | i);
    return result;
  }

  void clear() {
    slots_.clear();
    free_.clear();
    head_ = tail_ = npos;
    size_ = 0;
  }

private:
  static constexpr uint32_t npos = 0xFFFFFFFFu;

  struct slot {
    running_task task;
    uint64_t gen = 0;
    bool used = false;
    uint32_t prev = npos;
    uint32_t next = npos;
  };

  std::vector<slot> slots_;
  std::vector<uint32_t> free_;
  uint32_t head_ = npos;
  uint32_t tail_ = npos;
  size_t size_ = 0;
};

struct worker_entry {
  caf::actor hdl;
  bool owned = false;
  bool retiring = false;
  size_t in_flight = 0;
  // When it joined the pool, and how many workers before it in its place
  // were lost soon after their start, in a row (for the restart back-off).
  time_point started;
  uint32_t quick_losses = 0;
};

/// A worker the user handed in that the pool dropped while tasks still run
/// on it.
struct dropped_worker {
  caf::actor hdl;
  size_t running = 0;
};

/// A replacement waiting for its restart back-off.
struct pending_restart {
  caf::error reason;
  uint32_t quick_losses = 0;
  // Subscribers were told (pool_event::restart_delayed).
  bool announced = false;
};

/// Something the pool does once its lock is released: talking to other
/// actors under the lock could deadlock (a worker may itself be a pool, and
/// monitoring a dead worker calls back into the pool at once).
struct effect {
  enum kind_t : uint8_t {
    /// `elem` to `target`.
    send,
    /// A task to a worker: `elem` if set, else `content`, as a request with
    /// ID `mid` from the pool.
    send_task,
    /// A worker's answer `elem` to `target` as the response `mid`, still
    /// from the worker.
    relay,
    /// `content` to `target` as the response `mid`.
    respond,
    /// `content` to the pool itself at `at`, through the clock.
    timer,
    monitor,
    demonitor,
    /// An exit message with `reason` to `target`, in its turn.
    stop,
    /// An exit message with `reason` to `target`, ahead of the messages
    /// waiting in its mailbox (a stuck worker must not run them first).
    kill,
    finish,
  };
  effect(kind_t k, caf::strong_actor_ptr to) : kind(k), target(std::move(to)) {}

  kind_t kind;
  caf::strong_actor_ptr target;
  caf::mailbox_element_ptr elem;
  caf::error reason;
  caf::message content;
  caf::message_id mid;
  time_point at;
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
    if (++next_ == capacity_)
      next_ = 0;
  }

  void percentiles(caf::timespan& p50, caf::timespan& p90, caf::timespan& p99) const {
    if (xs_.empty())
      return;
    auto sorted = xs_;
    std::sort(sorted.begin(), sorted.end());
    // Nearest rank: the smallest sample with at least pct% of the samples at
    // or below it (the largest, for p99 of fewer than 100 samples).
    auto at = [&](size_t pct) { return sorted[(sorted.size() * pct + 99) / 100 - 1]; };
    p50 = at(50);
    p90 = at(90);
    p99 = at(99);
  }

private:
  size_t capacity_;
  size_t next_ = 0;
  std::vector<caf::timespan> xs_;
};

enum class liveness { alive, dying, unknown };

/// Whether actor `x` is terminating or gone. CAF closes an actor's mailbox,
/// bouncing the requests in it, before it sets the terminated flag, so a
/// closed mailbox counts as dying. Actors without a mailbox of their own
/// (proxies of remote actors, pools) show only their flags: `unknown` unless
/// those say that it is terminating.
liveness liveness_of(caf::abstract_actor* x) {
  if (x->getf(caf::abstract_actor::is_terminated_flag |
              caf::abstract_actor::is_shutting_down_flag |
              caf::abstract_actor::is_cleaned_up_flag))
    return liveness::dying;
  if (auto* s = dynamic_cast<caf::scheduled_actor*>(x))
    return s->mailbox().closed() ? liveness::dying : liveness::alive;
  if (auto* b = dynamic_cast<caf::blocking_actor*>(x))
    return b->mailbox().closed() ? liveness::dying : liveness::alive;
  return liveness::unknown;
}

/// True if copying `xs` allocates nothing but the copy itself: numbers,
/// atoms, times and reference-counted handles.
bool cheap_to_copy(const caf::type_erased_tuple& xs) {
  for (size_t i = 0; i < xs.size(); ++i) {
    switch (xs.type(i).first) {
    case caf::type_nr<caf::actor>::value:
    case caf::type_nr<caf::actor_addr>::value:
    case caf::type_nr<caf::atom_value>::value:
    case caf::type_nr<caf::duration>::value:
    case caf::type_nr<int16_t>::value:
    case caf::type_nr<int32_t>::value:
    case caf::type_nr<int64_t>::value:
    case caf::type_nr<int8_t>::value:
    case caf::type_nr<long double>::value:
    case caf::type_nr<caf::message>::value:
    case caf::type_nr<caf::message_id>::value:
    case caf::type_nr<caf::node_id>::value:
    case caf::type_nr<caf::strong_actor_ptr>::value:
    case caf::type_nr<caf::timespan>::value:
    case caf::type_nr<caf::timestamp>::value:
    case caf::type_nr<uint16_t>::value:
    case caf::type_nr<uint32_t>::value:
    case caf::type_nr<uint64_t>::value:
    case caf::type_nr<uint8_t>::value:
    case caf::type_nr<caf::unit_t>::value:
    case caf::type_nr<caf::weak_actor_ptr>::value:
    case caf::type_nr<bool>::value:
    case caf::type_nr<double>::value:
    case caf::type_nr<float>::value:
      continue;
    default:
      return false;
    }
  }
  return true;
}

bool is_error(const caf::mailbox_element& x) {
  return x.content().type_token() == caf::make_type_token<caf::error>();
}

template <class Atom, class... Ts>
bool is(const caf::type_erased_tuple& xs) {
  return xs.match_elements<Atom, Ts...>();
}

/// Refuses a pool of `n` workers that is too large for `cfg`.
caf::error check_size(uint64_t n, const worker_pool_config& cfg) {
  if (n > worker_pool_max_workers)
    return caf::make_error(error::invalid_config,
                           "worker_pool: at most " +
                               std::to_string(worker_pool_max_workers) + " workers");
  if (n > worker_pool_max_slots / cfg.max_in_flight_per_worker)
    return caf::make_error(error::invalid_config,
                           "worker_pool: workers x max_in_flight_per_worker must be "
                           "at most " +
                               std::to_string(worker_pool_max_slots));
  return caf::none;
}

// Ends a stopped pool on a thread of the scheduler. CAF's cleanup sends the
// down and exit messages for the pool's monitors and links at once, and the
// thread that made the pool stop may be inside one of them, holding its lock
// (a caf::actor_pool forwarding a message to every worker, say).
class finish_job final : public caf::ref_counted, public caf::resumable {
public:
  finish_job(caf::strong_actor_ptr pool, caf::error reason)
      : pool_(std::move(pool)), reason_(std::move(reason)) {}

  // A scheduler that stops drops the jobs it has not run: the pool still ends.
  ~finish_job() override {
    if (!pool_)
      return;
    try {
      run(nullptr);
    } catch (...) {
      // out of memory: the pool is unregistered all the same
    }
  }

  subtype_t subtype() const override { return resumable::unspecified; }

  resume_result resume(caf::execution_unit* eu, size_t) override;

  void intrusive_ptr_add_ref_impl() override { ref(); }

  void intrusive_ptr_release_impl() override { deref(); }

private:
  void run(caf::execution_unit* eu);

  caf::strong_actor_ptr pool_;
  caf::error reason_;
};

/// The pool's timer relay. The pool runs on whatever thread sends to it,
/// CAF's clock thread included (a delayed message sent straight to the
/// pool), and that clock blocks a caller while its queue is full: the pool
/// would wait on the very thread that empties the queue. So the pool never
/// calls the clock itself. It sends the relay `(arm_atom, stamp)`, and the
/// relay, an ordinary actor on a scheduler thread, sets the timer; the
/// clock's `(expire_atom, stamp)` comes back to the relay, which passes it
/// on while the pool lives (the clock holds the relay, never the pool).
caf::behavior pool_timer_relay(caf::event_based_actor* self, caf::actor_addr pool) {
  auto pass_on = [self, pool](uint64_t stamp) {
    if (auto hdl = caf::actor_cast<caf::actor>(pool))
      self->send(hdl, expire_atom_v, stamp);
    else
      self->quit();
  };
  return {
      [self, pool, pass_on](arm_atom, uint64_t stamp) {
        if (self->current_sender() != pool)
          return;
        try {
          self->home_system().clock().schedule_message(
              time_point{time_point::duration{stamp}},
              caf::actor_cast<caf::strong_actor_ptr>(self),
              caf::make_mailbox_element(nullptr, caf::make_message_id(), {},
                                        expire_atom_v, stamp));
        } catch (...) {
          // Out of memory: fires at once instead; the pool finds nothing
          // due yet and arms again.
          pass_on(stamp);
        }
      },
      [self, pass_on](expire_atom, uint64_t stamp) {
        // From the clock only, which sends without a sender.
        if (!self->current_sender())
          pass_on(stamp);
      },
  };
}

/// The pool actor. It has no mailbox and no thread of its own: like
/// caf::actor_pool, it handles each message inside `enqueue`, on the
/// sender's thread, under one lock. A task goes straight from the caller's
/// thread into a worker's mailbox, and a worker's answer goes straight from
/// the worker's thread into the caller's mailbox: two mailbox hops per task,
/// as for a direct request.
class worker_pool_actor final : public caf::monitorable_actor {
public:
  worker_pool_actor(caf::actor_config& acfg, worker_pool_config cfg,
                    worker_factory factory)
      : caf::monitorable_actor(acfg), cfg_(cfg), factory_(std::move(factory)),
        bounded_(!is_no_limit(cfg.task_timeout)),
        queue_bounded_(!is_no_limit(cfg.queue_timeout)),
        backoff_(cfg.restart_backoff > caf::timespan::zero()),
        timed_(bounded_ || queue_bounded_ || backoff_), subscribers_(cfg.max_subscribers),
        waits_(cfg.latency_samples), runs_(cfg.latency_samples) {
    // nop
  }

  const char* name() const override { return "actorkit.worker_pool"; }

  void start(std::vector<caf::actor> workers, bool owned) {
    register_at_system();
    std::unique_lock<spin_lock> guard{lock_};
    if (timed_)
      spawn_timer_relay();
    now_ = home_system().clock().now();
    std::vector<uint64_t> ids;
    for (auto& hdl : workers)
      ids.push_back(add_worker(std::move(hdl), owned));
    add_slots(ids);
    flush(guard, nullptr);
    guard.unlock();
    // Messages that arrived meanwhile (a worker's death) were left to us.
    drain(nullptr);
  }

  void enqueue(caf::mailbox_element_ptr what, caf::execution_unit* eu) override {
    // An error answer from an actor that is already terminating (a worker
    // answering its requests from its exit path) loses its sender, as a
    // bounce from a closed mailbox has none: see on_reply. This is judged
    // here, on the answering thread: when the pool handles the answer, a
    // worker that answered while alive may have died since.
    if (what->sender && what->mid.is_response() && is_error(*what) &&
        liveness_of(what->sender->get()) == liveness::dying)
      what->sender = nullptr;
    inbox_.push(std::move(what));
    drain(eu);
  }

  void on_destroy() override {
    if (!getf(is_cleaned_up_flag)) {
      // Nobody holds the pool any more, but callers of queued tasks still
      // wait: they are answered, without a sender since the pool is gone.
      std::unique_lock<spin_lock> guard{lock_};
      destroying_ = true;
      now_ = home_system().clock().now();
      quit(caf::make_error(caf::exit_reason::unreachable));
      flush(guard, nullptr);
    }
    caf::monitorable_actor::on_destroy();
  }

private:
  // -- effects, run without the lock ----------------------------------------

  caf::strong_actor_ptr me() {
    return destroying_ ? nullptr : caf::strong_actor_ptr{ctrl()};
  }

  // Handles the inbox. Whoever holds the lock handles every message pushed
  // meanwhile, including ones sent by code it runs (a worker factory); a
  // thread that finds the lock taken leaves its message to the holder, who
  // looks at the inbox again after releasing the lock.
  void drain(caf::execution_unit* eu) {
    while (!inbox_.empty()) {
      std::unique_lock<spin_lock> guard{lock_, std::try_to_lock};
      if (!guard.owns_lock())
        return;
      while (auto* list = inbox_.take_all()) {
        now_ = home_system().clock().now();
        while (list != nullptr) {
          // A message whose handling throws (out of memory, say) is lost,
          // but the rest of the list is still handled and freed.
          try {
            handle(inbox::pop(list));
          } catch (...) {
            log_failed_message();
          }
        }
      }
      flush(guard, eu);
    }
  }

  void flush(std::unique_lock<spin_lock>& guard, caf::execution_unit* eu) {
    // One thread at a time runs the effects, in the order they were made;
    // effects made meanwhile by other threads are picked up by the loop.
    if (flushing_)
      return;
    flushing_ = true;
    while (!out_.empty()) {
      auto batch = std::move(out_);
      out_ = std::move(spare_);
      out_.clear();
      guard.unlock();
      // An effect that throws (out of memory, say) is lost, but the others
      // still run; a task that never reached its worker and a timer that
      // was never set are taken care of below, under the lock. What throws
      // again while handling a failure is given up on, so that the pool
      // never stops performing effects.
      std::vector<effect> failed;
      for (auto& e : batch) {
        try {
          perform(e, eu);
        } catch (...) {
          log_failed(e.kind);
          if (e.kind == effect::send_task || e.kind == effect::timer) {
            try {
              failed.push_back(std::move(e));
            } catch (...) {
              // out of memory
            }
          }
        }
      }
      batch.clear();
      guard.lock();
      spare_ = std::move(batch);
      for (auto& e : failed) {
        try {
          on_failed(e);
        } catch (...) {
          log_failed(e.kind);
        }
      }
    }
    flushing_ = false;
  }

  void log_failed_message() noexcept {
    try {
      log_->error("worker_pool: handling a message failed with an exception");
    } catch (...) {
      // nothing left to do
    }
  }

  void log_failed(effect::kind_t kind) noexcept {
    try {
      log_->error("worker_pool: effect {} failed with an exception",
                  static_cast<int>(kind));
    } catch (...) {
      // nothing left to do
    }
  }

  // Under the lock: a task whose send to its worker threw is answered
  // `error::dropped` and frees its slot (it did not run); a timer that could
  // not be set is forgotten, so that the next deadline arms one again.
  void on_failed(const effect& e) {
    if (e.kind == effect::timer) {
      timers_.forget(e.at);
      return;
    }
    auto key = e.mid.request_id().integer_value();
    if (closing_ || running_.find(key) == nullptr)
      return;
    auto r = running_.take(key);
    ++stats_.dropped;
    answer(std::move(r.t.to),
           caf::make_error(error::dropped, "worker_pool: the send to a worker failed"));
    release_slot(r.worker);
    dispatch();
    check_drain();
  }

  void perform(effect& e, caf::execution_unit* eu) {
    switch (e.kind) {
    case effect::send:
      e.target->enqueue(std::move(e.elem), eu);
      break;
    case effect::send_task:
      if (e.elem) {
        e.elem->sender = me();
        e.elem->mid = e.mid;
      } else {
        e.elem = caf::make_mailbox_element(me(), e.mid, {}, std::move(e.content));
      }
      e.target->enqueue(std::move(e.elem), eu);
      break;
    case effect::timer:
      // The relay sets it: this thread may be the clock's own.
      e.target->enqueue(caf::make_mailbox_element(me(), caf::make_message_id(), {},
                                                  std::move(e.content)),
                        eu);
      break;
    case effect::respond:
      e.target->enqueue(caf::make_mailbox_element(me(), e.mid, {}, std::move(e.content)),
                        eu);
      break;
    case effect::relay:
      // A value's sender stays the worker, as if it had answered the caller
      // directly (as with caf::actor_pool); an error leaves from the pool
      // (see on_reply).
      e.elem->mid = e.mid;
      e.target->enqueue(std::move(e.elem), eu);
      break;
    case effect::monitor:
      e.target->get()->attach(
          caf::default_attachable::make_monitor(e.target->get()->address(), address()));
      break;
    case effect::demonitor:
      e.target->get()->detach(caf::default_attachable::observe_token{
          address(), caf::default_attachable::monitor});
      break;
    case effect::stop:
    case effect::kill: {
      auto prio = e.kind == effect::kill ? caf::message_priority::high
                                         : caf::message_priority::normal;
      e.target->enqueue(caf::make_mailbox_element(nullptr, caf::make_message_id(prio), {},
                                                  caf::exit_msg{address(), e.reason}),
                        eu);
      break;
    }
    case effect::finish: {
      // A pool that nobody holds any more cannot wait for a job; nor can one
      // whose job cannot be made (out of memory).
      finish_job* job = nullptr;
      if (!destroying_) {
        try {
          job = new finish_job(me(), e.reason);
        } catch (...) {
          job = nullptr;
        }
      }
      if (job != nullptr) {
        try {
          home_system().scheduler().enqueue(job);
        } catch (...) {
          intrusive_ptr_release(job); // its destructor ends the pool here
        }
      } else {
        finish(std::move(e.reason), eu);
      }
    } break;
    }
  }

public:
  void finish(caf::error reason, caf::execution_unit* eu) {
    // Unregistered even if cleanup throws, so that the system's shutdown
    // never waits for the pool.
    struct unregister {
      worker_pool_actor* self;
      ~unregister() { self->unregister_from_system(); }
    } guard{this};
    cleanup(std::move(reason), eu);
  }

private:
  // A new effect at the end of out_, made in place. Whatever may throw while
  // making its payload is done before, so that no half-made effect is left.
  effect& add_effect(effect::kind_t kind, caf::strong_actor_ptr target) {
    out_.emplace_back(kind, std::move(target));
    return out_.back();
  }

  void emit(effect::kind_t kind, const caf::actor& hdl, caf::error reason = {}) {
    auto& e = add_effect(kind, caf::actor_cast<caf::strong_actor_ptr>(hdl));
    e.reason = std::move(reason);
  }

  void answer(reply_to to, caf::message msg) {
    if (!to.stages.empty()) {
      // A forwarded request: the answer goes to the next stage.
      auto next = std::move(to.stages.back());
      to.stages.pop_back();
      auto elem = caf::make_mailbox_element(std::move(to.sender), to.mid,
                                            std::move(to.stages), std::move(msg));
      add_effect(effect::send, std::move(next)).elem = std::move(elem);
    } else if (to.sender && to.mid.is_request()) {
      // Only requests are answered: answering plain messages (with errors,
      // say) could start an endless exchange with another pool.
      auto& e = add_effect(effect::respond, std::move(to.sender));
      e.content = std::move(msg);
      e.mid = to.mid.response_id();
    }
  }

  void answer(reply_to to, caf::error err) {
    answer(std::move(to), caf::make_message(std::move(err)));
  }

  // -- message handling, under the lock ---------------------------------------

  // The clock's time when the current message arrived.
  time_point now() const { return now_; }

  task make_task(caf::mailbox_element_ptr what, time_point at) const {
    task t;
    t.to = take_reply_to(*what);
    t.arrived = at;
    t.elem = std::move(what);
    return t;
  }

  void handle(caf::mailbox_element_ptr what) {
    if (what->mid.is_response()) {
      on_reply(std::move(what));
      return;
    }
    auto& xs = what->content();
    if (is_task(xs)) {
      submit(make_task(std::move(what), now()));
      return;
    }
    auto token = xs.type_token();
    if (token == caf::make_type_token<caf::down_msg>()) {
      on_down(xs.get_as<caf::down_msg>(0), what->sender);
      return;
    }
    if (token == caf::make_type_token<caf::exit_msg>()) {
      // Like any actor that does not trap exits: a normal exit is ignored.
      auto& reason = xs.get_as<caf::exit_msg>(0).reason;
      if (reason)
        quit(reason);
      return;
    }
    if (closing_) {
      answer(take_reply_to(*what), caf::make_error(caf::sec::request_receiver_down));
      return;
    }
    control(*what);
  }

  // True unless `xs` is a system or control message.
  static bool is_task(const caf::type_erased_tuple& xs) {
    auto token = xs.type_token();
    if (token == caf::make_type_token<caf::down_msg>() ||
        token == caf::make_type_token<caf::exit_msg>())
      return false;
    if (xs.size() == 0 || xs.type(0).first != caf::type_nr<caf::atom_value>::value)
      return true;
    switch (static_cast<uint64_t>(xs.get_as<caf::atom_value>(0))) {
    case prio_atom::uint_value():
      return !is<prio_atom, int32_t, caf::message>(xs);
    case resize_atom::uint_value():
      return !is<resize_atom, uint64_t>(xs);
    case pause_atom::uint_value():
    case resume_atom::uint_value():
    case drain_atom::uint_value():
    case clear_atom::uint_value():
    case shutdown_atom::uint_value():
    case stats_atom::uint_value():
      return xs.size() != 1;
    case expire_atom::uint_value():
      return !is<expire_atom, uint64_t>(xs);
    case subscribe_atom::uint_value():
      return !is<subscribe_atom, caf::actor>(xs);
    case unsubscribe_atom::uint_value():
      return !is<unsubscribe_atom, caf::actor>(xs);
    default:
      return true;
    }
  }

  // Handles a control message: one that `is_task` refuses.
  void control(caf::mailbox_element& what) {
    auto& xs = what.content();
    auto unit = [&] { answer(take_reply_to(what), caf::message{}); };
    switch (static_cast<uint64_t>(xs.get_as<caf::atom_value>(0))) {
    case prio_atom::uint_value(): {
      task t;
      t.priority = xs.get_as<int32_t>(1);
      t.content = xs.move_if_unshared<caf::message>(2);
      t.to = take_reply_to(what);
      t.arrived = now();
      submit(std::move(t));
    } break;
    case resize_atom::uint_value():
      if (auto err = resize(xs.get_as<uint64_t>(1)))
        answer(take_reply_to(what), std::move(err));
      else
        unit();
      break;
    case pause_atom::uint_value():
      if (!paused_) {
        paused_ = true;
        log_->info("worker_pool: paused");
        publish(pool_event::paused);
      }
      unit();
      break;
    case resume_atom::uint_value():
      if (paused_) {
        paused_ = false;
        log_->info("worker_pool: resumed");
        publish(pool_event::resumed);
      }
      dispatch();
      unit();
      break;
    case drain_atom::uint_value():
      if (queued_ == 0 && running_.empty())
        unit();
      else if (drain_waiters_.size() >= cfg_.max_drain_waiters)
        answer(
            take_reply_to(what),
            caf::make_error(error::overloaded, "worker_pool: too many drain requests"));
      else
        drain_waiters_.push_back(take_reply_to(what));
      break;
    case clear_atom::uint_value():
      // Tasks already past the queue timeout are answered as such, as if
      // their timer had come first.
      expire_due_queued();
      answer(take_reply_to(what), caf::make_message(clear_queue()));
      break;
    case shutdown_atom::uint_value():
      log_->info("worker_pool: shutting down");
      unit();
      quit(caf::make_error(error::shut_down, "worker_pool: shut down"), caf::error{});
      break;
    case stats_atom::uint_value():
      answer(take_reply_to(what), caf::make_message(make_stats()));
      break;
    case subscribe_atom::uint_value():
      if (auto err = subscribers_.add(xs.get_as<caf::actor>(1), "worker_pool"))
        answer(take_reply_to(what), std::move(err));
      else
        unit();
      break;
    case unsubscribe_atom::uint_value():
      subscribers_.remove(xs.get_as<caf::actor>(1));
      unit();
      break;
    case expire_atom::uint_value():
      // The pool's own timer (through its relay) only: from anyone else it
      // changes nothing.
      if (what.sender && what.sender.get() == timer_relay_ctrl_)
        on_expire(xs.get_as<uint64_t>(1));
      else
        unit();
      break;
    default:
      break;
    }
  }

  void submit(task&& t) {
    if (closing_) {
      // As from any terminated actor.
      answer(std::move(t.to), caf::make_error(caf::sec::request_receiver_down));
      return;
    }
    t.id = next_task_++;
    auto priority = t.priority;
    // Tasks past the queue timeout leave before this one is counted in.
    expire_due_queued();
    if (!paused_ && queued_ == 0) {
      // Nothing waits: straight to a worker with a free slot, if any.
      if (auto* w = take_idle()) {
        run_on(*w, std::move(t));
        return;
      }
    }
    if (queued_ >= cfg_.queue_capacity) {
      if (cfg_.overflow == overflow_policy::reject_newest) {
        ++stats_.rejected;
        answer(std::move(t.to),
               caf::make_error(error::overloaded, "worker_pool: queue full"));
        return;
      }
      // The oldest task of the lowest priority goes, the new one included.
      auto lowest = std::find_if(queue_.rbegin(), queue_.rend(),
                                 [](auto& kvp) { return !kvp.second.empty(); });
      ++stats_.dropped;
      if (lowest == queue_.rend() || priority < lowest->first) {
        answer(std::move(t.to),
               caf::make_error(error::dropped, "worker_pool: queue full"));
        return;
      }
      answer(lowest->second.pop_front().to,
             caf::make_error(error::dropped, "worker_pool: dropped for newer work"));
      --queued_;
      if (lowest->second.empty() && lowest->first != 0)
        queue_.erase(std::next(lowest).base());
    }
    queue_[priority].push_back(std::move(t));
    ++queued_;
    dispatch();
    arm_timer();
  }

  task pop_task() {
    for (auto i = queue_.begin(); i != queue_.end(); ++i) {
      if (i->second.empty())
        continue;
      auto t = i->second.pop_front();
      --queued_;
      if (i->second.empty() && i->first != 0)
        queue_.erase(i);
      return t;
    }
    return {};
  }

  // The worker entry of the free slot idle the longest; null if none.
  std::pair<const uint64_t, worker_entry>* take_idle() {
    while (!idle_.empty()) {
      auto w = workers_.find(idle_.pop_front());
      if (w != workers_.end() && !w->second.retiring)
        return &*w;
    }
    return nullptr;
  }

  void dispatch() {
    expire_due_queued();
    while (!paused_ && queued_ > 0) {
      auto* w = take_idle();
      if (w == nullptr)
        return;
      run_on(*w, pop_task());
    }
  }

  void run_on(std::pair<const uint64_t, worker_entry>& entry, task&& t) {
    auto worker_id = entry.first;
    auto& w = entry.second;
    auto at = now();
    // The caller's element goes to the worker as it is. For a re-dispatch
    // the pool keeps a copy of small values (numbers, atoms, handles: one
    // allocation); larger content (strings, containers, user types) moves
    // into a message that the worker's new element shares, so that no deep
    // copy is made under the lock (CAF copies shared content on write, on
    // the worker's thread). Without an element (a wrapped or re-dispatched
    // task), the worker's element shares the kept content.
    auto elem = std::move(t.elem);
    caf::message content;
    uint64_t key = 0;
    try {
      // A task's wait is counted once: a re-dispatch's would include its
      // earlier runs.
      if (!t.requeued)
        waits_.add(std::chrono::duration_cast<caf::timespan>(at - t.arrived));
      if (!elem) {
        content = t.content;
      } else if (cfg_.max_redeliveries > 0) {
        if (cheap_to_copy(elem->content())) {
          t.content = elem->copy_content_to_message();
        } else {
          t.content = elem->move_content_to_message();
          elem.reset();
          content = t.content;
        }
      }
      // Room for the send, so that a running task always has one.
      if (out_.size() == out_.capacity())
        out_.reserve(std::max(out_.capacity() * 2, size_t{16}));
      // The worker answers the pool under a request ID that is the key of
      // the running task; keys grow, so the first running task has the
      // earliest deadline.
      key = running_.insert(std::move(t), worker_id, at,
                            bounded_ ? at + cfg_.task_timeout : time_point{});
    } catch (...) {
      // Out of memory: the task does not start and its slot stays free.
      idle_.push_front(worker_id);
      ++stats_.dropped;
      answer(std::move(t.to),
             caf::make_error(error::dropped, "worker_pool: could not start the task"));
      check_drain();
      return;
    }
    ++w.in_flight;
    auto& e =
        add_effect(effect::send_task, caf::actor_cast<caf::strong_actor_ptr>(w.hdl));
    e.elem = std::move(elem);
    e.content = std::move(content);
    e.mid = caf::make_message_id(key);
    arm_timer();
  }

  void on_reply(caf::mailbox_element_ptr what) {
    auto key = what->mid.request_id().integer_value();
    auto ri = running_.find(key);
    if (ri == nullptr)
      return; // late answer of a task that timed out or was re-dispatched
    auto worker_id = ri->worker;
    bool failed = is_error(*what);
    if (failed && !what->sender) {
      // An error without a sender is a request bounced by a closed mailbox,
      // or an answer from an actor that was terminating (see enqueue). If
      // the worker is terminating, it crashed: its down message comes after
      // its bounces and carries the exit reason that its tasks are
      // re-dispatched or quarantined with, so the task waits for it. A live
      // worker passed the task on (with `delegate`, say) to an actor that is
      // gone: that error is the answer.
      auto wi = workers_.find(worker_id);
      if (wi != workers_.end()) {
        auto& err = what->content().get_as<caf::error>(0);
        auto state = liveness_of(caf::actor_cast<caf::abstract_actor*>(wi->second.hdl));
        if (state == liveness::dying)
          return;
        // Where the pool cannot look into the worker, a bounce counts as its
        // crash; the worker is then dropped, so that none is left orphaned
        // if it lives on.
        if (state == liveness::unknown && err == caf::sec::request_receiver_down) {
          worker_lost(worker_id, err, true);
          return;
        }
      } else if (auto d = dropped_.find(worker_id); d != dropped_.end()) {
        // The same for a worker dropped while tasks still run on it.
        auto& err = what->content().get_as<caf::error>(0);
        auto state = liveness_of(caf::actor_cast<caf::abstract_actor*>(d->second.hdl));
        if (state == liveness::dying)
          return;
        if (state == liveness::unknown && err == caf::sec::request_receiver_down) {
          emit(effect::demonitor, d->second.hdl);
          dropped_lost(worker_id, err);
          return;
        }
      }
    }
    runs_.add(std::chrono::duration_cast<caf::timespan>(now() - ri->started));
    auto to = std::move(ri->t.to);
    running_.erase(key);
    if (failed)
      ++stats_.failed;
    else
      ++stats_.completed;
    if (to.stages.empty() && to.sender && to.mid.is_request()) {
      // The worker's answer goes on as it is, in its own mailbox element. An
      // error goes on from the pool: a pool above this one judges an error
      // by its sender's liveness, and the worker may be dying by the time
      // the relay arrives, which must not count as this pool's crash.
      if (!what->sender || failed)
        what->sender = me();
      auto& e = add_effect(effect::relay, std::move(to.sender));
      e.elem = std::move(what);
      e.mid = to.mid.response_id();
    } else {
      answer(std::move(to), what->move_content_to_message());
    }
    release_slot(worker_id);
    dispatch();
    check_drain();
  }

  // The pool's timers are set and delivered by a relay (see
  // pool_timer_relay), which also keeps the clock from holding the pool.
  // The pool watches it: a relay that dies (a send that threw for want of
  // memory) would take the pending timers along and keep new ones from
  // being set.
  void spawn_timer_relay() {
    timer_relay_ = home_system().spawn<caf::hidden>(pool_timer_relay, address());
    timer_relay_ctrl_ = caf::actor_cast<caf::actor_control_block*>(timer_relay_);
    add_effect(effect::monitor, caf::actor_cast<caf::strong_actor_ptr>(timer_relay_));
  }

  void on_down(const caf::down_msg& dm, const caf::strong_actor_ptr& sender) {
    if (timer_relay_ && dm.source == timer_relay_.address()) {
      // One about a relay still running was sent by someone else.
      if (closing_ || liveness_of(caf::actor_cast<caf::abstract_actor*>(timer_relay_)) ==
                          liveness::alive)
        return;
      log_->warn("worker_pool: its timer relay died ({}), starting another",
                 caf::to_string(dm.reason));
      // Its pending timers went with it: each deadline gets a new one.
      timers_ = detail::pending_timers{};
      spawn_timer_relay();
      arm_timer();
      return;
    }
    for (auto& kvp : workers_)
      if (kvp.second.hdl.address() == dm.source) {
        if (!forged(kvp.second.hdl, dm, sender))
          worker_lost(kvp.first, dm.reason, false);
        return;
      }
    for (auto& kvp : dropped_)
      if (kvp.second.hdl.address() == dm.source) {
        if (!forged(kvp.second.hdl, dm, sender))
          dropped_lost(kvp.first, dm.reason);
        return;
      }
  }

  // CAF flags an actor (or the proxy of a remote one) as terminating before
  // it sends its down message, with that actor as the sender. One about a
  // worker still running was sent by someone else and must not cost the
  // worker its tasks.
  bool forged(const caf::actor& worker, const caf::down_msg& dm,
              const caf::strong_actor_ptr& sender) {
    auto state = liveness_of(caf::actor_cast<caf::abstract_actor*>(worker));
    bool live = state == liveness::alive;
    if (state == liveness::unknown)
      live = worker.node() == home_system().node() || !sender ||
             sender->address() != dm.source;
    if (live)
      log_->warn("worker_pool: ignored a down message for live worker {}", worker.id());
    return live;
  }

  // When the first task still waiting on the queue timeout must start; max if
  // none. Re-dispatched tasks (pushed to the front) are exempt; behind them,
  // each priority's queue is in arrival order.
  time_point queue_deadline() {
    auto result = time_point::max();
    if (!queue_bounded_)
      return result;
    for (auto& kvp : queue_) {
      auto& q = kvp.second;
      for (size_t i = 0; i < q.size(); ++i)
        if (!q.at(i).requeued) {
          result = std::min(result, q.at(i).arrived + cfg_.queue_timeout);
          break;
        }
    }
    return result;
  }

  // Keeps a timer pending for the earliest deadline: the first running
  // task's or the queue's. A timer that fires early finds nothing due and
  // arms again. CAF's timers cannot be cancelled, so the pool remembers the
  // ones pending and adds one only when the earliest deadline comes before
  // all of them: a few at most, never one per task.
  void arm_timer() {
    // Most pools have no deadlines: this check stays inline.
    if (timed_)
      arm_deadline_timer();
  }

  void arm_deadline_timer() {
    if (closing_)
      return;
    auto next = queue_deadline();
    if (bounded_ && !running_.empty())
      next = std::min(next, running_.first().deadline);
    if (!restarts_.empty())
      next = std::min(next, restarts_.begin()->first);
    if (!timers_.need(next))
      return;
    try {
      auto msg = caf::make_message(arm_atom_v, detail::pending_timers::stamp(next));
      auto& e =
          add_effect(effect::timer, caf::actor_cast<caf::strong_actor_ptr>(timer_relay_));
      e.content = std::move(msg);
      e.at = next;
    } catch (...) {
      timers_.forget(next);
      throw;
    }
  }

  // Expires queued tasks already past the queue timeout, so that none starts
  // late when a slot frees up before the timer's message arrives.
  void expire_due_queued() {
    if (queue_bounded_ && queued_ > 0 && queue_deadline() <= now()) {
      expire_queued(now());
      check_drain();
    }
  }

  // Answers the queued tasks that waited past the queue timeout.
  void expire_queued(time_point at) {
    if (!queue_bounded_)
      return;
    for (auto i = queue_.begin(); i != queue_.end();) {
      auto& q = i->second;
      std::vector<task> again;
      while (!q.empty() && q.front().requeued)
        again.push_back(q.pop_front());
      while (!q.empty() && q.front().arrived + cfg_.queue_timeout <= at) {
        auto t = q.pop_front();
        --queued_;
        ++stats_.queue_timeouts;
        answer(std::move(t.to),
               caf::make_error(error::overloaded,
                               "worker_pool: waited longer than queue_timeout"));
      }
      for (auto r = again.rbegin(); r != again.rend(); ++r)
        q.push_front(std::move(*r));
      if (q.empty() && i->first != 0)
        i = queue_.erase(i);
      else
        ++i;
    }
  }

  void on_expire(uint64_t stamp) {
    auto at = now();
    if (!timers_.fired(stamp, at))
      return;
    expire_queued(at);
    std::vector<uint64_t> stuck;
    // Without a task timeout running tasks have no deadline (the timer is
    // then for the queue's).
    while (bounded_ && !running_.empty() && running_.first().deadline <= at) {
      auto key = running_.first_key();
      auto r = running_.take(key);
      ++stats_.timed_out;
      auto wi = workers_.find(r.worker);
      if (wi != workers_.end()) {
        log_->info("worker_pool: task {} timed out, replacing its worker", r.t.id);
        --wi->second.in_flight;
      } else {
        // Beside a task that timed out before, on a worker handed in by the
        // user and dropped then.
        log_->info("worker_pool: task {} timed out on a worker dropped before", r.t.id);
        settled_on_dropped(r.worker);
      }
      publish(pool_event::task_timed_out, r.t.id);
      answer(std::move(r.t.to), caf::make_error(caf::sec::request_timeout));
      if (std::find(stuck.begin(), stuck.end(), r.worker) == stuck.end())
        stuck.push_back(r.worker);
    }
    for (auto wid : stuck)
      if (!closing_)
        worker_lost(wid, caf::make_error(caf::sec::request_timeout), true, false, true);
    if (closing_)
      return;
    restart_due(at);
    if (closing_)
      return;
    forget_idle_of_leavers();
    dispatch();
    arm_timer();
    check_drain();
  }

  // -- workers ------------------------------------------------------------------

  // Adds a worker without free slots (see add_slots); returns its ID.
  uint64_t add_worker(caf::actor hdl, bool owned, uint32_t quick_losses = 0) {
    auto id = next_worker_++;
    emit(effect::monitor, hdl);
    worker_entry w;
    w.hdl = std::move(hdl);
    w.owned = owned;
    w.started = now();
    w.quick_losses = quick_losses;
    workers_.emplace(id, std::move(w));
    return id;
  }

  // Gives new workers their free slots, one round over all of them at a
  // time: a burst of tasks spreads over the new workers before any of them
  // gets a second task.
  void add_slots(const std::vector<uint64_t>& ids) {
    for (size_t i = 0; i < cfg_.max_in_flight_per_worker; ++i)
      for (auto id : ids)
        if (i + workers_.find(id)->second.in_flight < cfg_.max_in_flight_per_worker)
          idle_.push_back(id);
  }

  // Starts a worker from the factory and returns its ID; 0 if there is no
  // factory or it failed. The new worker has no free slots yet;
  // `quick_losses` counts the quick losses in a row in its place.
  uint64_t start_worker(uint32_t quick_losses = 0) {
    if (!factory_)
      return 0;
    caf::actor hdl;
    try {
      hdl = factory_(home_system());
    } catch (const std::exception& ex) {
      log_->warn("worker_pool: the factory threw: {}", ex.what());
    } catch (...) {
      log_->warn("worker_pool: the factory threw");
    }
    if (!hdl)
      return 0;
    // A dead worker would be reported lost at once and replaced by another
    // from the same factory, without end.
    if (liveness_of(caf::actor_cast<caf::abstract_actor*>(hdl)) == liveness::dying) {
      log_->warn("worker_pool: the factory returned a worker that is gone");
      return 0;
    }
    // One watched twice would lose both watches with the first demonitor.
    auto known = [&hdl](const auto& kvp) { return kvp.second.hdl == hdl; };
    if (std::any_of(workers_.begin(), workers_.end(), known) ||
        std::any_of(dropped_.begin(), dropped_.end(), known)) {
      log_->warn("worker_pool: the factory returned a worker the pool already has");
      return 0;
    }
    return add_worker(std::move(hdl), true, quick_losses);
  }

  void stop_worker(worker_entry& w, caf::error reason) {
    emit(effect::demonitor, w.hdl);
    if (w.owned)
      emit(effect::stop, w.hdl, std::move(reason));
  }

  size_t active_workers() const {
    size_t n = 0;
    for (auto& kvp : workers_)
      if (!kvp.second.retiring)
        ++n;
    return n;
  }

  // Drops the free-slot entries of every worker that left or retires, in one
  // pass, so that the idle queue never holds more entries than there are
  // slots.
  void forget_idle_of_leavers() {
    idle_.remove_if([this](uint64_t id) {
      auto wi = workers_.find(id);
      return wi == workers_.end() || wi->second.retiring;
    });
  }

  // Frees one slot of a worker after a task left it.
  void release_slot(uint64_t worker_id) {
    auto w = workers_.find(worker_id);
    if (w == workers_.end()) {
      settled_on_dropped(worker_id);
      return;
    }
    --w->second.in_flight;
    if (w->second.retiring) {
      if (w->second.in_flight == 0) {
        stop_worker(w->second, caf::exit_reason::user_shutdown);
        workers_.erase(w);
      }
      return;
    }
    idle_.push_back(worker_id);
  }

  // A worker is gone (crashed, or stuck and dropped by the pool): its other
  // running tasks are re-dispatched or quarantined, and a replacement starts.
  // With `then_dispatch` false the caller loses several workers in a row and
  // then drops their free slots (forget_idle_of_leavers) and dispatches, so
  // that no task goes to a worker about to be lost too. A worker dropped as
  // `stuck` on a task that timed out did not fail its other tasks: on a
  // worker the pool stopped they run again, the first time without counting
  // as a redelivery (with max_redeliveries 0 they fail: at most once); on a
  // worker the user handed in, which lives on, they stay in the running
  // table, settled by its answer, their own deadline or its crash (dropped_).
  void worker_lost(uint64_t worker_id, const caf::error& exit_reason, bool drop,
                   bool then_dispatch = true, bool stuck = false) {
    auto wi = workers_.find(worker_id);
    if (wi == workers_.end())
      return;
    // A normal exit (or a worker answering an empty error on its way out)
    // has no error code to pass on: its callers hear that the worker is gone.
    auto reason = exit_reason ? exit_reason
                              : caf::make_error(caf::sec::request_receiver_down,
                                                "worker_pool: the worker exited");
    auto w = std::move(wi->second);
    workers_.erase(wi);
    if (then_dispatch)
      forget_idle_of_leavers();
    auto keys = running_.keys_of(worker_id);
    if (drop) {
      // A worker the user handed in is only dropped, never stopped by the
      // pool; while tasks still run on it, its crash must reach them.
      if (stuck && !w.owned && !keys.empty())
        dropped_.emplace(worker_id, dropped_worker{w.hdl, keys.size()});
      else
        emit(effect::demonitor, w.hdl);
      if (w.owned)
        emit(effect::kill, w.hdl, caf::exit_reason::kill);
    }
    if (stuck && !w.owned)
      keys.clear();
    rerun_or_quarantine(keys, reason, stuck);
    if (!w.retiring) {
      // Without a factory there is nothing to wait for.
      auto delay = factory_ ? restart_delay(w) : caf::timespan::zero();
      if (delay > caf::timespan::zero()) {
        restarts_.emplace(
            now() + delay,
            pending_restart{reason, std::min<uint32_t>(w.quick_losses + 1, 64)});
        // A worker leaving after a shrink may take its place at once.
        keep_leavers_if_none_active();
        auto fresh = std::find_if(restarts_.begin(), restarts_.end(),
                                  [](const auto& kvp) { return !kvp.second.announced; });
        if (fresh != restarts_.end()) {
          fresh->second.announced = true;
          auto delay_ms = std::chrono::duration_cast<std::chrono::milliseconds>(delay);
          log_->info("worker_pool: worker lost ({}), replaced in {} ms",
                     to_string(reason), delay_ms.count());
          publish(pool_event::restart_delayed, static_cast<uint64_t>(delay_ms.count()),
                  reason);
        } else {
          ++stats_.replaced;
          log_->info("worker_pool: worker lost ({}), a leaving worker stays in its place",
                     to_string(reason));
          publish(pool_event::worker_replaced, 0, reason);
        }
      } else {
        replace_worker(reason);
      }
    }
    keep_leavers_if_none_active();
    if (quit_if_no_workers())
      return;
    if (!then_dispatch)
      return;
    dispatch();
    arm_timer();
    check_drain();
  }

  // A task on a dropped worker ended; the last one ends its watch.
  void settled_on_dropped(uint64_t worker_id) {
    auto d = dropped_.find(worker_id);
    if (d == dropped_.end() || --d->second.running > 0)
      return;
    emit(effect::demonitor, d->second.hdl);
    dropped_.erase(d);
  }

  // A dropped worker died: the tasks still on it crashed with it.
  void dropped_lost(uint64_t worker_id, const caf::error& exit_reason) {
    auto d = dropped_.find(worker_id);
    if (d == dropped_.end())
      return;
    dropped_.erase(d);
    auto reason = exit_reason ? exit_reason
                              : caf::make_error(caf::sec::request_receiver_down,
                                                "worker_pool: the worker exited");
    rerun_or_quarantine(running_.keys_of(worker_id), reason, false);
    dispatch();
    arm_timer();
    check_drain();
  }

  // The running tasks `keys` of a lost worker run again (pushed to the front
  // of their queues last first, so that they run in the order they were
  // dispatched) or are quarantined. `stuck`: lost because a task beside them
  // timed out, which is not their fault (see worker_lost).
  void rerun_or_quarantine(const std::vector<uint64_t>& keys, const caf::error& reason,
                           bool stuck) {
    for (auto k = keys.rbegin(); k != keys.rend(); ++k) {
      auto t = std::move(running_.take(*k).t);
      if (stuck && cfg_.max_redeliveries == 0) {
        // At most once: it ends with its worker.
        ++stats_.failed;
        answer(std::move(t.to), caf::make_error(caf::exit_reason::kill));
        continue;
      }
      // Once per task: a task that hangs its worker while an older one
      // beside it times out first would otherwise run again without end.
      bool uncounted = stuck && !t.stuck_rerun;
      if (uncounted || t.redeliveries < cfg_.max_redeliveries) {
        if (uncounted)
          t.stuck_rerun = true;
        else
          ++t.redeliveries;
        t.requeued = true;
        ++stats_.redelivered;
        log_->info("worker_pool: task {} re-dispatched after its worker failed ({})",
                   t.id, to_string(reason));
        auto prio = t.priority;
        queue_[prio].push_front(std::move(t));
        ++queued_;
      } else {
        // A task beside a stuck one ends as its killed worker did.
        auto ended = stuck ? caf::make_error(caf::exit_reason::kill) : reason;
        ++stats_.quarantined;
        log_->warn("worker_pool: task {} quarantined after {} redeliveries: {}", t.id,
                   t.redeliveries, to_string(ended));
        publish(pool_event::task_quarantined, t.id, ended);
        answer(std::move(t.to), std::move(ended));
      }
    }
  }

  // Starts a worker in place of one lost for `reason`.
  void replace_worker(const caf::error& reason, uint32_t quick_losses = 0) {
    if (auto id = start_worker(quick_losses)) {
      add_slots({id});
      ++stats_.replaced;
      log_->info("worker_pool: worker replaced ({})", to_string(reason));
      publish(pool_event::worker_replaced, 0, reason);
    } else {
      log_->info("worker_pool: worker lost without replacement ({})", to_string(reason));
      publish(pool_event::worker_lost, 0, reason);
    }
  }

  // When only workers leaving after a shrink remain, as many of them stay as
  // replacements still wait for their back-off (at least one), in place of
  // those replacements (a live worker beats one that may crash again); the
  // others still leave. So a worker retires only while another takes tasks,
  // and the pool keeps the size it was given. The free slots are counted
  // afresh (in a round of timeouts, entries of workers just lost may still
  // be queued).
  void keep_leavers_if_none_active() {
    if (workers_.empty() || active_workers() > 0)
      return;
    idle_ = ring_queue<uint64_t>{};
    auto keep = std::max<size_t>(1, restarts_.size());
    uint64_t cancelled = 0;
    for (auto& kvp : workers_) {
      if (keep == 0)
        break;
      --keep;
      kvp.second.retiring = false;
      for (auto i = kvp.second.in_flight; i < cfg_.max_in_flight_per_worker; ++i)
        idle_.push_back(kvp.first);
      if (!restarts_.empty()) {
        auto last = std::prev(restarts_.end());
        if (last->second.announced)
          ++cancelled;
        restarts_.erase(last);
      }
    }
    log_->info("worker_pool: shrink cancelled, no other workers left");
    if (cancelled > 0)
      publish(pool_event::restart_cancelled, cancelled);
  }

  // With no worker left and none about to start, the pool exits; true then.
  bool quit_if_no_workers() {
    if (!workers_.empty() || !restarts_.empty())
      return false;
    log_->warn("worker_pool: no workers left, shutting down");
    quit(caf::make_error(error::shut_down, "worker_pool: no workers left"));
    return true;
  }

  // How long to wait before replacing worker `w`, lost now: zero without a
  // back-off or after a run of at least restart_backoff_reset (which ends
  // the row of quick losses in its place), else the back-off doubled for
  // each quick loss in a row before it in its place. Each place in the pool
  // has its own row, so workers lost together (their dependency went down)
  // all wait the same.
  caf::timespan restart_delay(const worker_entry& w) {
    if (!backoff_ || now() - w.started >= cfg_.restart_backoff_reset)
      return caf::timespan::zero();
    auto delay = cfg_.restart_backoff;
    for (uint32_t i = 0; i < w.quick_losses && delay < cfg_.restart_backoff_max; ++i)
      delay =
          delay <= cfg_.restart_backoff_max / 2 ? delay * 2 : cfg_.restart_backoff_max;
    return std::min(delay, cfg_.restart_backoff_max);
  }

  // Starts the replacements whose back-off ended by `at`.
  void restart_due(time_point at) {
    bool started = false;
    while (!restarts_.empty() && restarts_.begin()->first <= at) {
      auto next = std::move(restarts_.begin()->second);
      restarts_.erase(restarts_.begin());
      replace_worker(next.reason, next.quick_losses);
      started = true;
    }
    if (started) {
      // A replacement that failed to start may leave only leaving workers.
      keep_leavers_if_none_active();
      quit_if_no_workers();
    }
  }

  caf::error resize(uint64_t n) {
    if (n == 0)
      return caf::make_error(error::invalid_config, "worker_pool: resize to 0 workers");
    if (auto err = check_size(n, cfg_))
      return err;
    // Replacements still waiting for their back-off count as workers: a grow
    // starts only the workers beyond them, a shrink drops them first.
    auto active = active_workers() + restarts_.size();
    if (n > active) {
      // Workers still finishing their tasks after a shrink stay on first,
      // so that shrinking and growing in turn never adds up workers.
      auto retiring = workers_.size() - active_workers();
      if (n > active + retiring && !factory_)
        return caf::make_error(error::invalid_config,
                               "worker_pool: cannot grow without a worker factory");
      // Reserved first: every worker that stays or starts gets its slots.
      std::vector<uint64_t> ids;
      ids.reserve(n - active);
      idle_.reserve(idle_.size() + (n - active) * cfg_.max_in_flight_per_worker);
      for (auto& kvp : workers_) {
        if (active + ids.size() == n)
          break;
        if (kvp.second.retiring) {
          kvp.second.retiring = false;
          ids.push_back(kvp.first);
        }
      }
      bool failed = false;
      try {
        for (auto i = active + ids.size(); i < n && !failed; ++i) {
          auto id = start_worker();
          if (id == 0)
            failed = true;
          else
            ids.push_back(id);
        }
      } catch (...) {
        // Out of memory: the workers taken back or started so far still get
        // their slots (room for them was reserved above).
        add_slots(ids);
        throw;
      }
      add_slots(ids);
      if (failed) {
        // The workers taken back or started so far stay and take queued work.
        if (!ids.empty()) {
          publish(pool_event::resized);
          dispatch();
        }
        return caf::make_error(error::invalid_config,
                               "worker_pool: the factory failed to start a worker");
      }
      log_->info("worker_pool: grew from {} to {} workers", active, n);
      publish(pool_event::resized);
      dispatch();
      return caf::none;
    }
    // Shrink: replacements not started yet are dropped first (the last due
    // first), then idle workers leave at once, busy ones finish their tasks
    // first.
    auto excess = active - n;
    uint64_t cancelled = 0;
    while (excess > 0 && !restarts_.empty()) {
      restarts_.erase(std::prev(restarts_.end()));
      --excess;
      ++cancelled;
    }
    if (cancelled > 0)
      publish(pool_event::restart_cancelled, cancelled);
    std::vector<uint64_t> leaving;
    for (int pass = 0; pass < 2 && leaving.size() < excess; ++pass)
      for (auto& kvp : workers_) {
        if (leaving.size() == excess)
          break;
        auto& w = kvp.second;
        if (w.retiring || (pass == 0 && w.in_flight > 0))
          continue;
        w.retiring = true;
        leaving.push_back(kvp.first);
      }
    forget_idle_of_leavers();
    for (auto id : leaving) {
      auto wi = workers_.find(id);
      if (wi->second.in_flight == 0) {
        stop_worker(wi->second, caf::exit_reason::user_shutdown);
        workers_.erase(wi);
      }
    }
    log_->info("worker_pool: shrank from {} to {} workers", active, n);
    publish(pool_event::resized);
    return caf::none;
  }

  // Answers every queued task `error::dropped`; running tasks go on. Returns
  // how many tasks were queued.
  uint64_t clear_queue() {
    uint64_t n = queued_;
    for (auto& kvp : queue_)
      kvp.second.for_each([&](task& t) {
        answer(std::move(t.to),
               caf::make_error(error::dropped, "worker_pool: queue cleared"));
      });
    queue_.clear();
    queued_ = 0;
    if (n > 0) {
      stats_.cleared += n;
      log_->info("worker_pool: queue cleared ({} tasks)", n);
      publish(pool_event::cleared, n);
      check_drain();
    }
    return n;
  }

  void check_drain() {
    if (drain_waiters_.empty() || queued_ > 0 || !running_.empty())
      return;
    auto waiters = std::move(drain_waiters_);
    drain_waiters_.clear();
    for (auto& to : waiters)
      answer(std::move(to), caf::message{});
  }

  // Tells every subscriber about a change (from the pool, as a plain message).
  void publish(pool_event kind, uint64_t task = 0, const caf::error& reason = {}) {
    if (subscribers_.empty())
      return;
    worker_pool_event ev;
    ev.kind = kind;
    ev.workers = active_workers();
    ev.task = task;
    if (reason)
      ev.reason = to_string(reason);
    auto msg = caf::make_message(std::move(ev));
    subscribers_.for_each([&](const caf::actor& who) {
      auto elem = caf::make_mailbox_element(me(), caf::make_message_id(), {}, msg);
      add_effect(effect::send, caf::actor_cast<caf::strong_actor_ptr>(who)).elem =
          std::move(elem);
    });
  }

  worker_pool_stats make_stats() {
    auto s = stats_;
    s.workers = active_workers();
    s.restarting = restarts_.size();
    s.queued = queued_;
    s.running = running_.size();
    waits_.percentiles(s.wait_p50, s.wait_p90, s.wait_p99);
    runs_.percentiles(s.run_p50, s.run_p90, s.run_p99);
    return s;
  }

  // Answers every queued and running caller and every drain request with
  // `err`, stops the workers the pool made, and exits with `reason`.
  void quit(caf::error err, caf::error reason) {
    if (closing_)
      return;
    closing_ = true;
    // Seen as terminating from now on: a pool above this one (this pool as
    // its worker) then takes the answers below for this pool's crash and
    // waits for its down message, as for any worker that dies.
    setf(is_shutting_down_flag);
    for (auto& kvp : queue_)
      kvp.second.for_each([&](task& t) { answer(std::move(t.to), err); });
    queue_.clear();
    queued_ = 0;
    running_.for_each([&](running_task& r) { answer(std::move(r.t.to), err); });
    running_.clear();
    for (auto& to : drain_waiters_)
      answer(std::move(to), err);
    drain_waiters_.clear();
    for (auto& kvp : workers_) {
      emit(effect::demonitor, kvp.second.hdl);
      if (kvp.second.owned)
        emit(effect::stop, kvp.second.hdl, caf::exit_reason::user_shutdown);
    }
    workers_.clear();
    for (auto& kvp : dropped_)
      emit(effect::demonitor, kvp.second.hdl);
    dropped_.clear();
    restarts_.clear();
    idle_ = ring_queue<uint64_t>{};
    if (timer_relay_)
      emit(effect::stop, timer_relay_, caf::exit_reason::user_shutdown);
    publish(pool_event::stopped, 0, reason);
    subscribers_.clear();
    auto& e = add_effect(effect::finish, nullptr);
    e.reason = std::move(reason);
  }

  // Exits with `reason`; callers are answered with it too.
  void quit(const caf::error& reason) { quit(reason, reason); }

  // -- state, guarded by lock_ --------------------------------------------------

  spin_lock lock_;
  inbox inbox_;
  worker_pool_config cfg_;
  worker_factory factory_;
  bool bounded_;
  bool queue_bounded_;
  // With a restart back-off.
  bool backoff_;
  // With any deadline: a timer relay, and arm_timer does something.
  bool timed_;
  // When the replacements waiting for their back-off start.
  std::multimap<time_point, pending_restart> restarts_;
  std::map<int32_t, ring_queue<task>, std::greater<int32_t>> queue_;
  size_t queued_ = 0;
  running_table running_;
  std::vector<reply_to> drain_waiters_;
  detail::subscriber_list subscribers_;
  // Hands the pool its timer messages (only with a task or queue timeout).
  caf::actor timer_relay_;
  caf::actor_control_block* timer_relay_ctrl_ = nullptr;
  std::unordered_map<uint64_t, worker_entry> workers_;
  // Workers the user handed in, dropped after a task on them timed out, with
  // tasks that ran beside it still on them: monitored until those settle.
  std::unordered_map<uint64_t, dropped_worker> dropped_;
  // One entry per free slot of a worker that takes tasks: worker ids, oldest
  // free first. A worker that leaves or retires takes its entries along.
  ring_queue<uint64_t> idle_;
  // When the pending timers fire.
  detail::pending_timers timers_;
  bool paused_ = false;
  bool closing_ = false;
  bool destroying_ = false;
  bool flushing_ = false;
  time_point now_;
  uint64_t next_task_ = 0;
  uint64_t next_worker_ = 1; // 0 means none (see start_worker)
  worker_pool_stats stats_;
  sample_window waits_;
  sample_window runs_;
  std::vector<effect> out_;
  std::vector<effect> spare_;
  std::shared_ptr<spdlog::logger> log_ = log::get("pool");
};

caf::actor make_pool(caf::actor_system& sys, worker_pool_config cfg,
                     worker_factory factory, std::vector<caf::actor> workers,
                     bool owned) {
  caf::actor_config acfg{sys.dummy_execution_unit()};
  auto hdl = caf::make_actor<worker_pool_actor, caf::actor>(
      sys.next_actor_id(), sys.node(), &sys, acfg, cfg, std::move(factory));
  auto ptr = static_cast<worker_pool_actor*>(caf::actor_cast<caf::abstract_actor*>(hdl));
  ptr->start(std::move(workers), owned);
  return hdl;
}

caf::resumable::resume_result finish_job::resume(caf::execution_unit* eu, size_t) {
  try {
    run(eu);
  } catch (...) {
    // out of memory in CAF's cleanup: the pool is unregistered all the same,
    // and the scheduler's thread goes on
  }
  return resumable::done;
}

void finish_job::run(caf::execution_unit* eu) {
  auto pool = std::move(pool_);
  static_cast<worker_pool_actor*>(caf::actor_cast<caf::abstract_actor*>(pool))
      ->finish(std::move(reason_), eu);
}

} // namespace

const char* to_string(pool_event x) {
  switch (x) {
  case pool_event::worker_replaced:
    return "worker_replaced";
  case pool_event::worker_lost:
    return "worker_lost";
  case pool_event::task_timed_out:
    return "task_timed_out";
  case pool_event::task_quarantined:
    return "task_quarantined";
  case pool_event::resized:
    return "resized";
  case pool_event::paused:
    return "paused";
  case pool_event::resumed:
    return "resumed";
  case pool_event::cleared:
    return "cleared";
  case pool_event::restart_delayed:
    return "restart_delayed";
  case pool_event::restart_cancelled:
    return "restart_cancelled";
  case pool_event::stopped:
    return "stopped";
  }
  return "unknown";
}

caf::error validate(const worker_pool_config& cfg, bool check_workers) {
  auto refuse = [](const std::string& what) {
    return caf::make_error(error::invalid_config, "worker_pool_config." + what);
  };
  if (check_workers && cfg.workers == 0)
    return refuse("workers must be at least 1");
  if (check_workers && cfg.workers > worker_pool_max_workers)
    return refuse("workers must be at most " + std::to_string(worker_pool_max_workers));
  if (cfg.max_in_flight_per_worker == 0)
    return refuse("max_in_flight_per_worker must be at least 1");
  if (cfg.max_in_flight_per_worker > worker_pool_max_slots ||
      (check_workers &&
       cfg.workers > worker_pool_max_slots / cfg.max_in_flight_per_worker))
    return refuse("max_in_flight_per_worker: workers x max_in_flight_per_worker "
                  "must be at most " +
                  std::to_string(worker_pool_max_slots));
  if (cfg.queue_capacity == 0)
    return refuse("queue_capacity must be at least 1");
  if (cfg.task_timeout <= caf::timespan::zero())
    return refuse("task_timeout must be positive");
  if (cfg.queue_timeout <= caf::timespan::zero())
    return refuse("queue_timeout must be positive");
  if (cfg.restart_backoff < caf::timespan::zero() || is_no_limit(cfg.restart_backoff))
    return refuse("restart_backoff must be at least 0 and below 100 years");
  if (cfg.restart_backoff_max < cfg.restart_backoff ||
      is_no_limit(cfg.restart_backoff_max))
    return refuse(
        "restart_backoff_max must be at least restart_backoff and below 100 years");
  if (cfg.restart_backoff_reset <= caf::timespan::zero() ||
      is_no_limit(cfg.restart_backoff_reset))
    return refuse("restart_backoff_reset must be positive and below 100 years");
  if (cfg.latency_samples == 0 || cfg.latency_samples > worker_pool_max_latency_samples)
    return refuse("latency_samples must be 1 to " +
                  std::to_string(worker_pool_max_latency_samples));
  if (cfg.max_drain_waiters == 0)
    return refuse("max_drain_waiters must be at least 1");
  if (cfg.max_subscribers == 0)
    return refuse("max_subscribers must be at least 1");
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
    caf::actor hdl;
    std::string why = "worker_pool: the factory failed to start a worker";
    try {
      hdl = factory(sys);
    } catch (const std::exception& ex) {
      why += std::string{": "} + ex.what();
    } catch (...) {
      why += ": it threw";
    }
    if (hdl && liveness_of(caf::actor_cast<caf::abstract_actor*>(hdl)) == liveness::dying)
      why += ": it returned an actor that is gone";
    if (!hdl || std::find(started.begin(), started.end(), hdl) != started.end() ||
        liveness_of(caf::actor_cast<caf::abstract_actor*>(hdl)) == liveness::dying) {
      for (auto& w : started)
        caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
      return caf::make_error(error::invalid_config, std::move(why));
    }
    started.push_back(std::move(hdl));
  }
  return make_pool(sys, cfg, std::move(factory), std::move(started), true);
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
  if (auto err = check_size(workers.size(), cfg))
    return err;
  if (std::any_of(workers.begin(), workers.end(), [](auto& w) { return !w; }))
    return caf::make_error(error::invalid_config,
                           "worker_pool: workers holds a null actor");
  // A worker that is gone would make the pool exit at once.
  if (std::any_of(workers.begin(), workers.end(), [](auto& w) {
        return liveness_of(caf::actor_cast<caf::abstract_actor*>(w)) == liveness::dying;
      }))
    return caf::make_error(error::invalid_config,
                           "worker_pool: workers holds an actor that is gone");
  for (auto i = workers.begin(); i != workers.end(); ++i)
    if (std::find(std::next(i), workers.end(), *i) != workers.end())
      return caf::make_error(error::invalid_config,
                             "worker_pool: workers holds the same actor twice");
  return make_pool(sys, cfg, std::move(replace), std::move(workers), false);
}

} // namespace actorkit
