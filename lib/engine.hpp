// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// Internal: the connection engine (request table, reader/writer loops, router). Not installed.
#pragma once

#include <codex/async_codex.hpp>
#include <codex/config.hpp>
#include <codex/results.hpp>
#include <codex/transport.hpp>

#include "turn_index.hpp"
#include "waiter.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/parser.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

namespace codex::detail {

namespace asio = boost::asio;
namespace json = boost::json;
using steady = std::chrono::steady_clock;

class Engine;
class Router;
class Logger;
class Subscription;
struct ResultBuilder;

/// True when the awaiting coroutine has been asked to cancel.
asio::awaitable<bool> is_cancelled();

/// Throws what a cancelled Asio operation throws: `system_error(operation_aborted)`.
[[noreturn]] void throw_cancelled();

/// Waits on `timer` until it is cancelled (a wake-up) or `deadline` passes. Returns true when
/// woken, false on deadline.
asio::awaitable<bool> wait_on(asio::steady_timer& timer, steady::time_point deadline);

/// The deadline for a timeout (zero or negative: none).
steady::time_point deadline_after(std::chrono::milliseconds timeout);

/// A turn's buffered events: a ring whose capacity (a power of two) grows with the backlog and
/// shrinks back when it empties. `std::deque` would allocate and free a block every few events;
/// with many turns interleaved that churn, on a thousand different blocks, cost more than the
/// routing itself.
class EventRing {
 public:
  EventRing() = default;
  EventRing(const EventRing&) = delete;
  EventRing& operator=(const EventRing&) = delete;
  ~EventRing() {
    clear();
    release();
  }

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  Notification& operator[](std::size_t i) noexcept { return slots_[(head_ + i) & (cap_ - 1)]; }
  Notification& back() noexcept { return (*this)[size_ - 1]; }
  /// Move-constructs the event into raw storage: with many turns interleaved the slot is a cache
  /// line not touched since the turn's previous event, and construction only stores to it where
  /// assignment would first load what the slot held.
  void push_back(Notification&& n) {
    if (size_ == cap_) grow();
    ::new (static_cast<void*>(&slots_[(head_ + size_) & (cap_ - 1)])) Notification(std::move(n));
    ++size_;
  }
  void pop_front() noexcept {
    slots_[head_].~Notification();  // frees the payload now
    head_ = (head_ + 1) & (cap_ - 1);
    if (--size_ == 0) reset_if_big();
  }
  void clear() noexcept {
    while (size_)
      pop_front();
  }

 private:
  static_assert(std::is_nothrow_move_constructible_v<Notification>);
  void release() noexcept {
    ::operator delete(static_cast<void*>(slots_));
    slots_ = nullptr;
    cap_ = 0;
  }
  void grow() {
    const std::size_t cap = cap_ ? cap_ * 2 : 4;
    auto* bigger = static_cast<Notification*>(::operator new(cap * sizeof(Notification)));
    for (std::size_t i = 0; i < size_; ++i) {
      Notification& from = (*this)[i];
      ::new (static_cast<void*>(bigger + i)) Notification(std::move(from));
      from.~Notification();
    }
    ::operator delete(static_cast<void*>(slots_));
    slots_ = bigger;
    cap_ = cap;
    head_ = 0;
  }
  void reset_if_big() noexcept {
    if (cap_ > 1024) release();
    head_ = 0;
  }
  Notification* slots_ = nullptr;  // cap_ slots; size_ of them, from head_ on (cyclically), live
  std::size_t cap_ = 0;            // a power of two, or 0
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

/// One turn's event log, shared by every consumer of the turn.
struct TurnState {
  std::string turn_id;
  std::string thread_id;  // known once claimed (for the inactivity watchdog's thread/read)
  steady::time_point last_event = steady::now();  // stamped only when the watchdog is on
  EventRing log;
  std::uint64_t base = 0;      // absolute index of log.front()
  bool started = false;        // turn/started routed
  bool completed = false;      // turn/completed routed
  bool claimed = false;        // a handle exists or existed
  bool abandoned = false;      // claimed, and every handle and stream is gone
  int cores = 0;               // live TurnCore objects (handles and their copies)
  std::exception_ptr failure;  // the connection died before completion
  std::vector<Subscription*> subs;
  Subscription* only_sub = nullptr;  // subs[0] while it is the only one (routing reads no vector)
  std::uint64_t seq = 0;             // creation order, for eviction
  std::uint64_t end() const noexcept { return base + log.size(); }
};

/// One consumer's cursor in a turn's log.
class Subscription {
 public:
  Subscription(std::shared_ptr<Engine> engine, std::shared_ptr<TurnState> state,
               std::uint64_t cursor);
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  /// The next event of `self` (which the wait keeps alive), or nullopt at the end; `feed`, when
  /// given, sees each event returned. One coroutine frame per call whether the event is already
  /// buffered or waited for: `AsyncTurnStream::next()` returns this awaitable as it is.
  static asio::awaitable<std::optional<Notification>> next(
      std::shared_ptr<Subscription> self,
      std::chrono::milliseconds timeout = std::chrono::milliseconds(0),
      ResultBuilder* feed = nullptr);
  /// An event that is already buffered, without waiting (nullopt if none or finished).
  std::optional<Notification> try_next();
  /// True when `next()` would return at once.
  bool ready() const noexcept;
  void close() noexcept;
  void wake() noexcept;

  const std::shared_ptr<TurnState>& state() const noexcept { return state_; }
  std::uint64_t cursor() const noexcept { return cursor_; }
  bool finished() const noexcept { return finished_; }

 private:
  Notification take();
  /// take(), fed to `feed` when given.
  std::optional<Notification> take_fed(ResultBuilder* feed);
  /// When the inactivity watchdog should look at this turn (max: never).
  steady::time_point stall_at() const noexcept;
  /// A wait ended on its deadline: reconcile a silent turn, or throw `TimeoutError`.
  asio::awaitable<void> on_timeout(steady::time_point deadline, std::chrono::milliseconds timeout);
  /// The inactivity watchdog fired: ask the server about the turn (see CodexConfig).
  asio::awaitable<void> reconcile(std::chrono::milliseconds silent_for);
  std::shared_ptr<Engine> engine_;
  std::shared_ptr<TurnState> state_;
  std::uint64_t cursor_;
  Waiter waiter_;
  steady::time_point watch_from_ = steady::now();  // the watchdog's silence starts here at most
  bool closed_ = false;
  bool finished_ = false;
  std::size_t ready_slot_ = 0;  // 1 + its index in Engine::ready_ while a wake is scheduled
  friend class Router;
  friend class Engine;
};

/// What a turn handle shares with its copies. While one exists, the turn's events are kept.
struct TurnCore {
  TurnCore() = default;
  TurnCore(const TurnCore&) = delete;
  TurnCore& operator=(const TurnCore&) = delete;
  ~TurnCore();
  std::weak_ptr<Engine> engine;
  std::string thread_id;
  std::string turn_id;
  std::shared_ptr<TurnState> state;
  /// Holds the turn's events from the start until the first stream takes it over.
  std::shared_ptr<Subscription> anchor;
};

/// What this client knows of a thread's turn starts, for `AsyncThread::last_turn()`. A start
/// whose caller stopped waiting (cancelled, timed out) still records the turn it started.
struct ThreadRecord {
  std::string last_turn_id;
  int starts_in_flight = 0;
  std::vector<Waiter*> waiters;  // last_turn() calls waiting for starts in flight
  void wake_all() noexcept {
    for (auto* w : waiters)
      w->wake();
  }
};

/// One `turn/start`, run apart from its caller so that a cancelled caller does not lose the turn.
struct TurnStartOp {
  explicit TurnStartOp(const asio::any_io_executor& ex) : waiter(ex) {}
  Waiter waiter;  // the caller waits here
  bool done = false;
  std::string turn_id;
  std::exception_ptr error;
};

/// Routes notifications: by turn id into turn logs, login completions by login id, the rest into
/// the bounded client event queue. Touched only on the engine's executor.
class Router {
 public:
  Router(const Limits& limits, Engine& engine) : limits_(limits), engine_(engine) {}

  void route(Notification&& n, Engine& engine);
  /// Gets (or creates, unclaimed) the state of a turn.
  std::shared_ptr<TurnState> state_for(const std::string& turn_id);
  /// Marks a turn claimed and returns its state (its buffered events are kept for the handle).
  std::shared_ptr<TurnState> claim(const std::string& turn_id);
  void add_sub(TurnState& st, Subscription* sub);
  void remove_sub(TurnState& st, Subscription* sub);
  /// A TurnCore of this turn went away.
  void release_core(TurnState& st);
  void prune(TurnState& st);
  void fail_all(std::exception_ptr e);

  std::size_t buffered_claimed() const noexcept { return buffered_claimed_; }
  /// Set by the reader while it waits for consumers (backpressure).
  bool reader_paused = false;
  /// Stamp each turn's last event time (the inactivity watchdog is on).
  bool stamp_events = false;

  // client events
  std::deque<Notification> events;
  std::vector<asio::steady_timer*> event_waiters;
  std::size_t dropped_events = 0;

  // logins
  struct LoginSlot {
    std::optional<LoginCompleted> result;
    asio::steady_timer* waiter = nullptr;
  };
  std::map<std::string, LoginSlot> logins;
  std::map<std::string, LoginCompleted> early_logins;  // completions before registration

 private:
  void evict_unclaimed();
  void abandon(TurnState& st);
  const Limits& limits_;
  Engine& engine_;
  TurnIndex turns_;  // by id (see turn_index.hpp)
  std::uint64_t next_seq_ = 0;
  std::size_t unclaimed_ = 0;
  std::size_t buffered_claimed_ = 0;
};

/// A server request's answer state, shared by the handler runner and `PendingRequest` copies.
struct PendingRequestState {
  ServerRequest request;
  std::weak_ptr<Engine> engine;
  asio::any_io_executor executor;
  std::atomic<bool> done{false};
  std::atomic<bool> resolved_by_server{false};
  asio::cancellation_signal handler_cancel;  // executor only
  asio::cancellation_signal timeout_cancel;  // executor only
  bool handler_finished = false;             // executor only: the handler returned
};

/// The connection: owns the transport, the request table, the router and the loops.
class Engine final : public std::enable_shared_from_this<Engine>, public MessageSink {
 public:
  Engine(asio::any_io_executor executor, CodexConfig config);
  ~Engine() override;

  const asio::any_io_executor& executor() const noexcept { return executor_; }
  const CodexConfig& config() const noexcept { return config_; }
  Router& router() noexcept { return router_; }
  Logger& log() noexcept { return *log_; }

  asio::awaitable<void> ensure_started();
  bool started() const noexcept { return state_ == State::running; }
  const InitializeResponse& metadata() const;
  asio::awaitable<void> close();
  void kill_now() noexcept;

  /// Sends a request and waits for its result (starts the server first if needed).
  asio::awaitable<json::value> call(std::string method, json::value params,
                                    std::optional<std::chrono::milliseconds> timeout);
  /// Sends a notification (fire and forget).
  void notify(std::string_view method, json::value params);

  /// Claims a turn for a new handle.
  std::shared_ptr<TurnCore> claim_turn(std::string thread_id, std::string turn_id);
  std::shared_ptr<Subscription> subscribe(const std::shared_ptr<TurnState>& st);

  /// The record of a thread's turn starts (created on first use; bounded, see engine.cpp).
  std::shared_ptr<ThreadRecord> thread_record(const std::string& thread_id);

  void set_thread_handler(const std::string& thread_id, ApprovalHandler h);
  void set_turn_handler(const std::string& turn_id, ApprovalHandler h);

  void expect_login(const std::string& login_id);
  asio::awaitable<LoginCompleted> wait_login(std::string login_id,
                                             std::optional<std::chrono::milliseconds> timeout);
  asio::awaitable<Notification> next_event(std::optional<std::chrono::milliseconds> timeout);

  /// Answers a server request (executor only).
  void send_reply(const std::shared_ptr<PendingRequestState>& st, const ServerReply& reply);
  void reader_resume() noexcept;
  /// Resumes `sub`'s waiting consumer once the current handler returns. Every wake of one read
  /// pass shares one posted handler (`flush_wakes`), which resumes the consumers in turn (by
  /// dispatch: no post, queue or allocation per event when they run on this thread).
  void schedule_wake(Subscription* sub);
  /// `sub` is going away: drop it from the pending wakes.
  void unschedule_wake(Subscription* sub) noexcept;
  /// A caller waits for something only the server can send (a response, a turn event, a login
  /// completion, a client event): while one does, backpressure never holds the reader back, or
  /// that caller would wait for good behind events nobody reads yet. See `Demand`.
  void demand_begin() noexcept {
    ++demand_;
    if (router_.reader_paused) reader_resume();
  }
  void demand_end() noexcept { --demand_; }
  /// A turn completed: its per-turn approval handler is no longer needed.
  void forget_turn_handler(const std::string& turn_id) { turn_handlers_.erase(turn_id); }
  std::exception_ptr failure() const noexcept { return failure_; }
  void throw_if_failed() const;

  // MessageSink
  void on_message(std::string_view message) override;
  void on_oversize(std::size_t bytes) override;

 private:
  enum class State { idle, starting, running, closed };
  struct Pending {
    json::value result;
    std::exception_ptr error;
    bool done = false;
    asio::steady_timer* waiter = nullptr;
    const std::string* method = nullptr;
  };

  asio::awaitable<void> start_impl();
  asio::awaitable<void> run_start();
  asio::awaitable<json::value> raw_call(std::string method, json::value params,
                                        std::chrono::milliseconds timeout);
  asio::awaitable<void> reader_loop();
  asio::awaitable<void> writer_loop();
  asio::awaitable<void> run_handler(std::shared_ptr<PendingRequestState> st);
  void enqueue(std::string text);
  void on_response(json::object& msg);
  void on_server_request(json::object& msg);
  void on_transport_lost(std::exception_ptr why);
  void fail_everything(std::exception_ptr e);
  ApprovalHandler handler_for(const ServerRequest& r) const;

  asio::any_io_executor executor_;
  CodexConfig config_;
  std::unique_ptr<Logger> log_;
  State state_ = State::idle;
  std::exception_ptr failure_;
  std::vector<asio::steady_timer*> start_waiters_;
  std::unique_ptr<Transport> transport_;
  std::optional<InitializeResponse> metadata_;

  std::int64_t next_id_ = 1;
  std::unordered_map<std::int64_t, Pending*> pending_;
  std::deque<std::string> write_queue_;
  asio::steady_timer writer_wake_;
  bool writer_running_ = false;
  bool reader_running_ = false;
  asio::steady_timer reader_wake_;
  std::size_t demand_ = 0;  // callers waiting on the server (demand_begin)
  void flush_wakes();
  void post_flush();                  // posts one flush_wakes (flush_posted_)
  std::vector<Subscription*> ready_;  // schedule_wake(); a null entry was unscheduled
  std::size_t flush_from_ = 0;        // where the next flush_wakes() starts in ready_
  bool flush_posted_ = false;

  json::parser parser_;
  Router router_;
  std::unordered_map<std::string, std::shared_ptr<ThreadRecord>> threads_;
  std::map<std::string, ApprovalHandler> thread_handlers_;
  std::map<std::string, ApprovalHandler> turn_handlers_;
  std::map<std::int64_t, std::weak_ptr<PendingRequestState>> server_requests_;
  std::unique_ptr<asio::thread_pool> sync_pool_;
};

/// Marks its scope as waiting on the server (`Engine::demand_begin`).
class Demand {
 public:
  explicit Demand(Engine& e) noexcept : e_(e) { e_.demand_begin(); }
  ~Demand() { e_.demand_end(); }
  Demand(const Demand&) = delete;
  Demand& operator=(const Demand&) = delete;

 private:
  Engine& e_;
};

/// Builds the wire params for option structs (lib/wire.cpp).
json::object thread_start_params(const ThreadStartOptions& o);
json::object thread_resume_params(const std::string& id, const ThreadResumeOptions& o);
json::object thread_fork_params(const std::string& id, const ThreadForkOptions& o);
json::object thread_list_params(const ThreadListOptions& o);
json::object turn_start_params(const std::string& thread_id, const Input& input,
                               const TurnOptions& o);
json::object models_params(const ModelsOptions& o);

/// Accumulates a TurnResult from a turn's events.
struct ResultBuilder {
  TurnResult r;
  bool completed = false;
  void feed(const Notification& ev);
  TurnResult finish(const std::string& turn_id) const;
};

/// Reads a turn to its end (lib/async_codex.cpp).
asio::awaitable<TurnResult> collect_turn(std::shared_ptr<Engine> engine,
                                         std::shared_ptr<TurnCore> core, EventObserver on_event);

}  // namespace codex::detail
