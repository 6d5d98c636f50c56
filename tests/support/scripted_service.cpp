#include <actorkit/tests/support/scripted_service.hpp>

#include <tuple>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/make_message.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include <actorkit/actors/error.hpp>

namespace actorkit::testing {

namespace {

struct parked_request {
  caf::response_promise rp;
  caf::message value;
  reaction what;
};

// Parked requests live outside the actor state so that the exit path (an
// attached functor, which runs after the state is gone) can answer them.
using parked_map = std::unordered_map<uint64_t, parked_request>;

struct service_state {
  static inline const char* name = "actorkit.scripted_service";
  scripted_service_config cfg;
  std::shared_ptr<service_counters> counters;
  std::shared_ptr<parked_map> parked;
  uint64_t next_id = 0;
};

void bump_max(service_counters& c) {
  auto now = c.in_flight.load();
  auto prev = c.max_in_flight.load();
  while (now > prev && !c.max_in_flight.compare_exchange_weak(prev, now)) {
  }
}

void settle(caf::stateful_actor<service_state>* self, parked_request& req) {
  auto& c = *self->state.counters;
  --c.in_flight;
  switch (req.what.kind) {
  case reaction::reply:
    ++c.replied;
    req.rp.deliver(req.value);
    break;
  case reaction::fail:
    ++c.failed;
    req.rp.deliver(req.what.err);
    break;
  case reaction::die:
    ++c.failed;
    req.rp.deliver(req.what.err);
    self->quit(req.what.err);
    break;
  case reaction::hang:
    break;
  }
}

void on_ask(caf::stateful_actor<service_state>* self, caf::message value, reaction what) {
  auto& st = self->state;
  auto& c = *st.counters;
  auto rp = self->make_response_promise();
  if (st.parked->size() >= st.cfg.max_parked) {
    rp.deliver(
        caf::make_error(error::overloaded, "scripted service: too many parked requests"));
    return;
  }
  ++c.in_flight;
  bump_max(c);
  if (st.cfg.on_call)
    st.cfg.on_call(c);
  parked_request req{rp, std::move(value), std::move(what)};
  if (req.what.kind != reaction::hang && req.what.latency <= caf::timespan::zero()) {
    settle(self, req);
    return;
  }
  auto id = st.next_id++;
  if (req.what.kind != reaction::hang)
    self->delayed_send(self, req.what.latency, tick_atom_v, id);
  st.parked->emplace(id, std::move(req));
}

reaction pick(service_state& st, const int64_t* input) {
  auto index = st.counters->calls++;
  if (index < st.cfg.script.size())
    return st.cfg.script[index];
  if (input != nullptr && st.cfg.by_input)
    return st.cfg.by_input(*input);
  return st.cfg.otherwise;
}

caf::behavior service_impl(caf::stateful_actor<service_state>* self,
                           scripted_service_config cfg,
                           std::shared_ptr<service_counters> counters) {
  self->state.cfg = std::move(cfg);
  self->state.counters = counters;
  auto parked = std::make_shared<parked_map>();
  self->state.parked = parked;
  self->attach_functor([parked](const caf::error& reason) {
    auto err = reason ? reason : caf::make_error(caf::exit_reason::normal);
    for (auto& kvp : *parked)
      kvp.second.rp.deliver(err);
    parked->clear();
  });
  return {
      [=](ask_atom, int64_t x) {
        auto what = pick(self->state, &x);
        on_ask(self, caf::make_message(self->state.cfg.int_fn(x)), std::move(what));
      },
      [=](ask_atom, const std::string& x) {
        auto what = pick(self->state, nullptr);
        on_ask(self, caf::make_message(self->state.cfg.string_fn(x)), std::move(what));
      },
      [=](tick_atom, uint64_t id) {
        auto i = self->state.parked->find(id);
        if (i == self->state.parked->end())
          return;
        auto req = std::move(i->second);
        self->state.parked->erase(i);
        settle(self, req);
      },
      [=](stats_atom) {
        auto& c = *self->state.counters;
        return std::make_tuple(uint64_t{c.calls}, uint64_t{c.in_flight},
                               uint64_t{c.max_in_flight});
      },
      [=](reset_atom) {
        auto& c = *self->state.counters;
        c.calls = 0;
        c.max_in_flight = c.in_flight.load();
        c.replied = 0;
        c.failed = 0;
      },
  };
}

} // namespace

scripted_service spawn_scripted_service(caf::actor_system& sys,
                                        scripted_service_config cfg) {
  auto counters = std::make_shared<service_counters>();
  auto hdl = sys.spawn(service_impl, std::move(cfg), counters);
  return {hdl, counters};
}

scripted_service spawn_echo_service(caf::actor_system& sys, caf::timespan latency,
                                    std::function<int64_t(int64_t)> fn) {
  scripted_service_config cfg;
  cfg.otherwise = reaction::reply_after(latency);
  cfg.int_fn = std::move(fn);
  return spawn_scripted_service(sys, std::move(cfg));
}

} // namespace actorkit::testing
