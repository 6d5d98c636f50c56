// Serialized state: an account balance owned by one actor and updated by
// asynchronous operations strictly one at a time, with no lock.
//
// Ten clients deposit and withdraw at once. Each update asks a (slow) fraud
// check service before it commits, so updates overlap in time, yet each one
// sees the balance the previous one left. A withdrawal that would overdraw
// fails alone: the balance is unchanged, its caller gets the error, and the
// updates queued behind it still run.
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include <actorkit/actors/config.hpp>
#include <actorkit/actors/serialized.hpp>
#include <actorkit/tests/support/scripted_service.hpp>

namespace {

using namespace std::chrono_literals;

actorkit::update_op<int64_t> change_by(caf::actor fraud_check, int64_t amount) {
  return {[fraud_check, amount](caf::event_based_actor* self, const int64_t& balance,
                                actorkit::commit_fn<int64_t> commit) {
    self->request(fraud_check, 5s, actorkit::ask_atom_v, amount)
        .then(
            [=](int64_t) {
              if (balance + amount < 0)
                commit(
                    caf::make_error(actorkit::error::cancelled,
                                    "insufficient funds for " + std::to_string(amount)));
              else
                commit(balance + amount);
            },
            [=](caf::error& err) { commit(err); });
  }};
}

} // namespace

void serialized_scenario(caf::actor_system& sys) {
  caf::scoped_actor self{sys};
  auto fraud_check = actorkit::testing::spawn_echo_service(sys, 20ms);
  auto account = actorkit::spawn_serialized<int64_t>(sys, {100});
  if (!account) {
    std::cout << sys.render(account.error()) << "\n";
    return;
  }
  const int64_t amounts[] = {+50, -120, -80, +10, -30, +200, -500, +5, -25, +40};
  std::cout << "Balance 100; ten concurrent updates, each awaiting a 20 ms check:\n";
  // All ten requests go out at once; the answers are read in request order,
  // which is also the order the account applied them.
  using handle = decltype(self->request(*account, caf::infinite, actorkit::update_atom_v,
                                        actorkit::update_op<int64_t>{}));
  std::vector<handle> pending;
  for (auto amount : amounts)
    pending.push_back(self->request(*account, 10s, actorkit::update_atom_v,
                                    change_by(fraud_check.actor, amount)));
  for (size_t i = 0; i < pending.size(); ++i) {
    auto amount = amounts[i];
    pending[i].receive(
        [=](int64_t balance) {
          std::cout << "  " << (amount > 0 ? "+" : "") << amount << " -> balance "
                    << balance << "\n";
        },
        [&](caf::error& err) {
          std::cout << "  " << amount << " refused (" << sys.render(err) << ")\n";
        });
  }
  self->request(*account, 10s, actorkit::get_atom_v)
      .receive([](int64_t x) { std::cout << "Final balance: " << x << "\n"; },
               [](caf::error&) {});
  self->send_exit(*account, caf::exit_reason::user_shutdown);
  self->send_exit(fraud_check.actor, caf::exit_reason::user_shutdown);
}

#ifndef ACTORKIT_TOUR
void caf_main(caf::actor_system& sys, const actorkit::config& cfg) {
  if (auto err = actorkit::apply_options(cfg)) {
    std::cerr << sys.render(err) << "\n";
    return;
  }
  serialized_scenario(sys);
}

CAF_MAIN()
#endif
