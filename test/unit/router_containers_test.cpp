// The router's containers. detail::EventRing (lib/engine.hpp): a turn's log of buffered events,
// a ring over raw storage; checked against std::deque, for payloads freed exactly once.
// detail::TurnIndex (lib/turn_index.hpp): the router's open-addressing map from turn id to turn
// state. Checked against std::map through random inserts and erases (probe runs that wrap around
// the table, backward-shift erase in the middle of a run, growth, the owning pointers moving with
// their slots), with ids of several lengths.
#include "engine.hpp"
#include "turn_index.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>

namespace {

using codex::detail::EventRing;
using codex::detail::TurnIndex;
using codex::detail::TurnState;

/// An event with heap-allocated payloads (a method past the small-string buffer, an object),
/// which ASan and its leak checker follow, holding a reference to `token`: `token.use_count() - 1`
/// is the number of events alive.
codex::Notification make_event(int n,
                               const std::shared_ptr<codex::detail::PendingRequestState>& token) {
  codex::Notification ev;
  ev.method = "item/agentMessage/delta #" + std::to_string(n);
  ev.params["n"] = n;
  ev.params["delta"] = std::string(64, 'x');
  ev.request = codex::PendingRequest(token);
  return ev;
}

int number_of(codex::Notification& ev) {
  return static_cast<int>(ev.params["n"].as_int64());
}

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

TEST_CASE("event ring: agrees with std::deque through pushes and pops that wrap and grow") {
  auto token = std::make_shared<codex::detail::PendingRequestState>();
  std::mt19937 rng(20261124);
  std::deque<int> model;
  codex::Notification taken;
  {
    EventRing ring;
    int next = 0;
    for (int step = 0; step < 20000; ++step) {
      // Bursts of pushes (growing the ring while its live part wraps around the end) and of
      // pops (emptying it, which resets its head and frees a big ring).
      const bool push = (step / 500) % 3 != 2 ? rng() % 4 != 0 : rng() % 4 == 0;
      if (push) {
        ring.push_back(make_event(next, token));
        model.push_back(next++);
      } else if (!model.empty()) {
        REQUIRE(number_of(ring[0]) == model.front());
        ring.pop_front();
        model.pop_front();
      }
      REQUIRE(ring.size() == model.size());
      REQUIRE(token.use_count() == static_cast<long>(model.size()) + 1);
      if (!model.empty()) {
        REQUIRE(number_of(ring.back()) == model.back());
        const std::size_t mid = model.size() / 2;
        REQUIRE(number_of(ring[mid]) == model[mid]);
      }
    }
    // A moved-out slot stays valid until popped (Subscription::take moves, prune pops).
    ring.push_back(make_event(-1, token));
    taken = std::move(ring.back());
    REQUIRE(number_of(taken) == -1);
    REQUIRE(ring.size() == model.size() + 1);
  }
  // The ring's destructor destroyed what it still held, once each.
  REQUIRE(token.use_count() == 2);  // `token` and the event taken out
}

TEST_CASE("event ring: clear frees every event and the ring is reusable") {
  auto token = std::make_shared<codex::detail::PendingRequestState>();
  EventRing ring;
  for (int i = 0; i < 3000; ++i)  // past the size that is freed when the ring empties
    ring.push_back(make_event(i, token));
  REQUIRE(token.use_count() == 3001);
  for (int i = 0; i < 1000; ++i)
    ring.pop_front();
  REQUIRE(number_of(ring[0]) == 1000);
  ring.clear();
  REQUIRE(ring.empty());
  REQUIRE(token.use_count() == 1);
  ring.push_back(make_event(7, token));
  REQUIRE(number_of(ring[0]) == 7);
  REQUIRE(ring.size() == 1);
}

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
  // A small id space, so erases hit and ids come back; UUID-long ids, longer ones and short
  // ones (within std::string's own buffer).
  auto id_of = [](unsigned n) {
    std::string id = "019a7c2e-4b1d-7f3a-9c5e-" + std::to_string(100000000000u + n);
    if (n % 7 == 0) id += "-with-a-longer-suffix";
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
    auto st = make_state(std::string(50, 'x'));  // a heap-allocated id
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
