// detail::TurnIndex (lib/turn_index.hpp): the router's open-addressing map from turn id to turn
// state. Checked against std::map through random inserts and erases (probe runs that wrap around
// the table, backward-shift erase in the middle of a run, growth), and for ids too long to be
// kept inline.
#include "turn_index.hpp"
#include "engine.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <random>
#include <string>

namespace {

using codex::detail::TurnIndex;
using codex::detail::TurnState;

std::shared_ptr<TurnState> make_state(std::string id) {
  auto st = std::make_shared<TurnState>();
  st->turn_id = std::move(id);
  return st;
}

/// Every id of `model` is found with its own state, and the index holds nothing else.
void check_same(const TurnIndex& index,
                const std::map<std::string, std::shared_ptr<TurnState>>& model) {
  REQUIRE(index.size() == model.size());
  for (const auto& [id, st] : model) {
    INFO("id " << id);
    REQUIRE(index.find(id) == st.get());
    REQUIRE(index.find_shared(id) == st);
  }
  std::size_t seen = 0;
  index.for_each([&](const std::shared_ptr<TurnState>& st) {
    ++seen;
    auto it = model.find(st->turn_id);
    REQUIRE(it != model.end());
    REQUIRE(it->second == st);
  });
  REQUIRE(seen == model.size());
}

}  // namespace

TEST_CASE("turn index: empty") {
  TurnIndex index;
  REQUIRE(index.empty());
  REQUIRE(index.find("turn_1") == nullptr);
  REQUIRE(index.find_shared("turn_1") == nullptr);
  REQUIRE_FALSE(index.erase("turn_1"));
}

TEST_CASE("turn index: agrees with std::map through random inserts and erases") {
  std::mt19937 rng(20261124);
  TurnIndex index;
  std::map<std::string, std::shared_ptr<TurnState>> model;
  // A small id space, so erases hit and ids come back; some ids are UUID-long (inline), some
  // longer than the inline key (compared through the state).
  auto id_of = [](unsigned n) {
    std::string id = "019a7c2e-4b1d-7f3a-9c5e-" + std::to_string(100000000000u + n);
    if (n % 7 == 0) id += "-with-a-suffix-past-the-inline-key";
    if (n % 11 == 0) id = "t" + std::to_string(n);
    return id;
  };
  for (int step = 0; step < 20000; ++step) {
    const unsigned n = rng() % 600;
    const std::string id = id_of(n);
    const bool present = model.count(id) != 0;
    if (rng() % 3 != 0) {
      if (!present) {
        auto st = make_state(id);
        model[id] = st;
        index.insert(st);
      }
    } else {
      REQUIRE(index.erase(id) == present);
      model.erase(id);
    }
    REQUIRE(index.size() == model.size());
    if (step % 997 == 0) check_same(index, model);
  }
  check_same(index, model);
  // Drain it completely, then reuse it.
  while (!model.empty()) {
    auto it = model.begin();
    REQUIRE(index.erase(it->first));
    model.erase(it);
  }
  check_same(index, model);
  auto st = make_state(id_of(3));
  index.insert(st);
  REQUIRE(index.find(id_of(3)) == st.get());
}

TEST_CASE("turn index: erase with a state removes only that state") {
  TurnIndex index;
  auto a = make_state("turn_a");
  index.insert(a);
  TurnState other;
  REQUIRE_FALSE(index.erase("turn_a", &other));
  REQUIRE(index.find("turn_a") == a.get());
  REQUIRE(index.erase("turn_a", a.get()));
  REQUIRE(index.find("turn_a") == nullptr);
}

TEST_CASE("turn index: erase by the state's own id releases the state safely") {
  // The router erases with a view of the state's own turn_id; the index holds the last owner.
  TurnIndex index;
  std::weak_ptr<TurnState> weak;
  {
    auto st = make_state(std::string(50, 'x'));  // longer than the inline key
    weak = st;
    index.insert(std::move(st));
  }
  TurnState* raw = index.find(std::string(50, 'x'));
  REQUIRE(raw != nullptr);
  REQUIRE(index.erase(raw->turn_id));
  REQUIRE(weak.expired());
  REQUIRE(index.empty());
}

TEST_CASE("turn index: grows with a burst of turns and shrinks back as they end") {
  TurnIndex index;
  std::map<std::string, std::shared_ptr<TurnState>> model;
  for (int i = 0; i < 5000; ++i) {
    auto st = make_state("turn-" + std::to_string(i));
    model[st->turn_id] = st;
    index.insert(st);
  }
  REQUIRE(index.capacity() >= 2 * index.size());
  const std::size_t peak = index.capacity();
  // End all but 10, checking the survivors stay reachable through every shrink.
  int ended = 0;
  for (auto it = model.begin(); model.size() > 10;) {
    REQUIRE(index.erase(it->first));
    it = model.erase(it);
    if (++ended % 500 == 0) check_same(index, model);
  }
  check_same(index, model);
  CHECK(index.capacity() < peak / 64);
  CHECK(index.capacity() >= 2 * index.size());
}
