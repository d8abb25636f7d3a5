// detail::Waiter (lib/waiter.hpp): the parking spot of turn streams. Woken by a post (never
// inline), timed out at its deadline, aborted by per-operation cancellation, and destroyed with
// its coroutine when the io_context goes away while it waits.
#include "waiter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>

namespace {

namespace asio = boost::asio;
using codex::detail::Waiter;
using namespace std::chrono_literals;
using clock_type = Waiter::clock;

/// Waits once and records the outcome.
asio::awaitable<void> wait_once(Waiter& w, clock_type::time_point deadline,
                                std::optional<boost::system::error_code>& out) {
  auto [ec] = co_await w.async_wait(deadline, asio::as_tuple(asio::use_awaitable));
  out = ec;
}

/// Starts a coroutine that waits on `w` without a deadline and lets it park.
void park(asio::io_context& ioc, Waiter& w, std::optional<boost::system::error_code>& got) {
  asio::co_spawn(ioc, wait_once(w, clock_type::time_point::max(), got), asio::detached);
  ioc.poll();
  REQUIRE(w.waiting());
}

}  // namespace

TEST_CASE("waiter: wake() resumes the waiting coroutine by a post, not inline", "[waiter]") {
  asio::io_context ioc;
  Waiter w(ioc.get_executor());
  std::optional<boost::system::error_code> got;
  asio::co_spawn(ioc, wait_once(w, clock_type::time_point::max(), got), asio::detached);
  ioc.poll();  // the coroutine starts and parks
  REQUIRE(w.waiting());
  CHECK(!ioc.stopped());  // the wait is outstanding work, like any pending operation
  w.wake();
  CHECK(!got);  // posted: nothing ran yet
  CHECK(!w.waiting());
  ioc.poll();
  REQUIRE(got);
  CHECK(!*got);
  w.wake();  // nobody waits: no effect
  // A second wait works after the first.
  ioc.restart();
  std::optional<boost::system::error_code> again;
  asio::co_spawn(ioc, wait_once(w, clock_type::time_point::max(), again), asio::detached);
  ioc.poll();
  w.wake();
  ioc.run_for(5s);  // returns once the woken coroutine finished: no work left
  REQUIRE(again);
  CHECK(!*again);
}

TEST_CASE("waiter: a deadline ends the wait with timed_out", "[waiter]") {
  asio::io_context ioc;
  Waiter w(ioc.get_executor());
  std::optional<boost::system::error_code> got;
  const auto t0 = clock_type::now();
  asio::co_spawn(ioc, wait_once(w, t0 + 50ms, got), asio::detached);
  ioc.run_for(5s);
  REQUIRE(got);
  CHECK(*got == asio::error::timed_out);
  CHECK(clock_type::now() - t0 >= 50ms);
  CHECK(!w.waiting());
}

TEST_CASE("waiter: a wake before the deadline wins and the timer is dropped", "[waiter]") {
  asio::io_context ioc;
  Waiter w(ioc.get_executor());
  std::optional<boost::system::error_code> got;
  asio::co_spawn(ioc, wait_once(w, clock_type::now() + 10s, got), asio::detached);
  ioc.poll();
  w.wake();
  const auto t0 = clock_type::now();
  ioc.run_for(5s);  // returns as soon as no work is left: the deadline's timer was cancelled
  REQUIRE(got);
  CHECK(!*got);
  CHECK(clock_type::now() - t0 < 5s);
}

TEST_CASE("waiter: per-operation cancellation aborts the wait", "[waiter]") {
  using namespace asio::experimental::awaitable_operators;
  asio::io_context ioc;
  Waiter w(ioc.get_executor());
  std::optional<boost::system::error_code> got;
  bool timer_won = false;
  auto body = [&]() -> asio::awaitable<void> {
    asio::steady_timer t(ioc, 20ms);
    auto parked = wait_once(w, clock_type::time_point::max(), got);
    auto tick = t.async_wait(asio::use_awaitable);
    auto r = co_await (std::move(parked) || std::move(tick));
    timer_won = r.index() == 1;
  };
  asio::co_spawn(ioc, body(), asio::detached);
  ioc.run_for(5s);
  CHECK(timer_won);
  REQUIRE(got);
  CHECK(*got == asio::error::operation_aborted);
  CHECK(!w.waiting());
}

TEST_CASE("waiter: destroying the io_context destroys a coroutine parked on a waiter", "[waiter]") {
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  auto w = std::make_unique<std::optional<Waiter>>();
  {
    asio::io_context ioc;
    w->emplace(ioc.get_executor());
    auto park = [](std::shared_ptr<int> keep, Waiter& waiter) -> asio::awaitable<void> {
      co_await waiter.async_wait(clock_type::time_point::max(), asio::use_awaitable);
      ++*keep;  // never reached
    };
    auto coro = park(std::move(alive), **w);
    asio::co_spawn(ioc, std::move(coro), asio::detached);
    ioc.poll();
    REQUIRE((*w)->waiting());
    CHECK(!watch.expired());  // the suspended frame holds it
  }
  // The context's shutdown destroyed the handler, hence the frame and what it held: no leak.
  CHECK(watch.expired());
  CHECK(!(*w)->waiting());
  w.reset();  // a waiter that is not waiting may outlive its context
}

TEST_CASE("waiter: wake_inline() resumes the waiter before returning on its own thread",
          "[waiter]") {
  asio::io_context ioc;
  Waiter w(ioc.get_executor());
  std::optional<boost::system::error_code> got;
  park(ioc, w, got);
  bool resumed_inside = false;
  // From a handler of the same io_context (like Engine::flush_wakes): dispatched, so inline.
  asio::post(ioc, [&] {
    w.wake_inline();
    resumed_inside = got.has_value();
  });
  ioc.run_for(5s);
  CHECK(resumed_inside);
  REQUIRE(got);
  CHECK(!*got);
  CHECK(!w.waiting());
}

TEST_CASE("waiter: wake_inline() from another thread posts to the waiter's context", "[waiter]") {
  asio::io_context ioc;
  Waiter w(ioc.get_executor());
  std::optional<boost::system::error_code> got;
  park(ioc, w, got);
  w.wake_inline();  // this thread is not running ioc: nothing may run here
  CHECK(!got);
  ioc.run_for(5s);
  REQUIRE(got);
  CHECK(!*got);
}

TEST_CASE("waiter: a handler too big to keep inline still completes and is destroyed", "[waiter]") {
  // A plain callback capturing more than the waiter's inline buffer: kept as an
  // any_completion_handler instead.
  auto alive = std::make_shared<int>(0);
  std::weak_ptr<int> watch = alive;
  std::unique_ptr<Waiter> w;  // outlives the context, like the earlier shutdown test's
  {
    asio::io_context ioc;
    w = std::make_unique<Waiter>(ioc.get_executor());
    std::array<char, 512> bulk{};
    bulk[511] = 'z';
    char seen = 0;
    std::optional<boost::system::error_code> got;
    w->async_wait(clock_type::time_point::max(),
                  [bulk, keep = alive, &seen, &got](boost::system::error_code ec) {
                    seen = bulk[511];
                    got = ec;
                  });
    REQUIRE(w->waiting());
    w->wake();
    ioc.run_for(5s);
    REQUIRE(got);
    CHECK(!*got);
    CHECK(seen == 'z');
    // And destroyed unrun by the context's shutdown while it waits.
    w->async_wait(clock_type::time_point::max(),
                  [bulk, keep = alive](boost::system::error_code) { FAIL("never run"); });
    alive.reset();
    CHECK(!watch.expired());
  }
  CHECK(watch.expired());
  CHECK(!w->waiting());
  w.reset();
}

TEST_CASE("waiter: what a handler resumed by wake_inline() throws reaches the caller", "[waiter]") {
  struct Marker {};
  asio::io_context ioc;
  Waiter w(ioc.get_executor());
  w.async_wait(clock_type::time_point::max(), [](boost::system::error_code) { throw Marker{}; });
  REQUIRE(w.waiting());
  bool caught = false;
  asio::post(ioc, [&] {
    try {
      w.wake_inline();  // runs the handler here (same thread as the io_context)
    } catch (const Marker&) {
      caught = true;
    }
  });
  ioc.run_for(5s);
  CHECK(caught);  // not swallowed
  CHECK(!w.waiting());
  // The waiter works again afterwards.
  std::optional<boost::system::error_code> got;
  ioc.restart();
  park(ioc, w, got);
  w.wake();
  ioc.run_for(5s);
  REQUIRE(got);
  CHECK(!*got);
}
