// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include "engine.hpp"

#include "log.hpp"

#include <codex/errors.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <limits>

namespace codex::detail {

using asio::use_awaitable;

// ---------------------------------------------------------------- waiting helpers

asio::awaitable<bool> is_cancelled() {
  asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
  co_return cs.cancelled() != asio::cancellation_type::none;
}

asio::awaitable<bool> wait_on(asio::steady_timer& timer, steady::time_point deadline) {
  timer.expires_at(deadline);
  auto [ec] = co_await timer.async_wait(asio::as_tuple(use_awaitable));
  co_return ec == asio::error::operation_aborted;
}

steady::time_point deadline_after(std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) return steady::time_point::max();
  return steady::now() + timeout;
}

void throw_cancelled() {
  throw boost::system::system_error(asio::error::operation_aborted);
}

namespace {

void wake(asio::steady_timer* t) noexcept {
  if (t) t->cancel();
}

std::string_view str_field(const json::object& o, std::string_view key) noexcept {
  if (auto* v = o.if_contains(key))
    if (auto* s = v->if_string()) return *s;
  return {};
}

/// `s == literal`, comparing sizes first (`== const char*` would call strlen and memcmp).
bool is(std::string_view s, std::string_view literal) noexcept {
  return s == literal;
}

}  // namespace

// ---------------------------------------------------------------- Subscription

Subscription::Subscription(std::shared_ptr<Engine> engine, std::shared_ptr<TurnState> state,
                           std::uint64_t cursor)
    : engine_(std::move(engine)),
      state_(std::move(state)),
      cursor_(cursor),
      waiter_(engine_->executor()) {
  engine_->router().add_sub(*state_, this);
}

Subscription::~Subscription() {
  if (ready_slot_) engine_->unschedule_wake(this);
  if (state_) engine_->router().remove_sub(*state_, this);
}

bool Subscription::ready() const noexcept {
  return closed_ || finished_ || cursor_ < state_->end() || state_->completed || state_->failure;
}

Notification Subscription::take() {
  auto& st = *state_;
  if (cursor_ < st.base) cursor_ = st.base;  // events pruned while unclaimed
  auto& slot = st.log[cursor_ - st.base];
  Notification out = (st.subs.size() == 1) ? std::move(slot) : slot;
  ++cursor_;
  if (is(out.method, "turn/completed") && out.turn_id() == st.turn_id) finished_ = true;
  engine_->router().prune(st);
  return out;
}

std::optional<Notification> Subscription::try_next() {
  if (closed_ || finished_) return std::nullopt;
  if (cursor_ < state_->end()) return take();
  return std::nullopt;
}

std::optional<Notification> Subscription::take_fed(ResultBuilder* feed) {
  std::optional<Notification> ev(take());
  if (feed) feed->feed(*ev);
  return ev;
}

steady::time_point Subscription::stall_at() const noexcept {
  const auto inactivity = engine_->config().turn_inactivity_timeout;
  if (inactivity.count() <= 0) return steady::time_point::max();
  return std::max(state_->last_event, watch_from_) + inactivity;
}

asio::awaitable<void> Subscription::on_timeout(steady::time_point deadline,
                                               std::chrono::milliseconds timeout) {
  const auto now = steady::now();
  const auto stall = stall_at();
  if (now >= stall && stall < deadline) {
    const auto silent = std::chrono::duration_cast<std::chrono::milliseconds>(
        now - std::max(state_->last_event, watch_from_));
    co_await reconcile(silent);
    co_return;
  }
  throw TimeoutError("turn " + state_->turn_id + " stream", timeout);
}

asio::awaitable<std::optional<Notification>> Subscription::next(std::shared_ptr<Subscription> self,
                                                                std::chrono::milliseconds timeout,
                                                                ResultBuilder* feed) {
  // Every consumer of a turn keeps this frame parked while it waits, so it holds as little as
  // possible: the rare paths (a timeout, the inactivity watchdog) are functions of their own.
  const auto deadline = deadline_after(timeout);
  for (;;) {
    Subscription& sub = *self;
    TurnState& st = *sub.state_;
    if (sub.closed_ || sub.finished_) co_return std::nullopt;
    if (sub.cursor_ < st.end()) co_return sub.take_fed(feed);
    if (st.completed) co_return std::nullopt;  // completion seen but pruned: nothing left
    if (st.failure) std::rethrow_exception(st.failure);
    // One wait per event when many turns interleave: a Waiter, not a timer (see waiter.hpp).
    Demand demand(*sub.engine_);
    auto [ec] = co_await sub.waiter_.async_wait(std::min(deadline, sub.stall_at()),
                                                asio::as_tuple(use_awaitable));
    if (self->cursor_ < self->state_->end() || self->closed_ || self->state_->failure ||
        self->state_->completed)
      continue;
    if (ec == asio::error::timed_out)
      co_await self->on_timeout(deadline, timeout);
    else if (ec == asio::error::operation_aborted || co_await is_cancelled())
      throw_cancelled();
  }
}

asio::awaitable<void> Subscription::reconcile(std::chrono::milliseconds silent_for) {
  auto engine = engine_;
  auto st = state_;
  std::string status, detail;
  json::object turn;
  if (st->thread_id.empty()) {
    detail = "the turn's thread is unknown";
  } else {
    try {
      json::object params{{"threadId", st->thread_id}, {"includeTurns", true}};
      json::value v = co_await engine->call("thread/read", std::move(params), std::nullopt);
      const json::value* turns = nullptr;
      if (auto* o = v.if_object())
        if (auto* t = o->if_contains("thread"); t && t->is_object())
          turns = t->get_object().if_contains("turns");
      if (turns && turns->is_array()) {
        for (auto& t : turns->get_array()) {
          auto* to = t.if_object();
          if (!to || str_field(*to, "id") != st->turn_id) continue;
          status = std::string(str_field(*to, "status"));
          turn = *to;
          break;
        }
      }
    } catch (const TransportClosedError&) {
      throw;
    } catch (const CodexError& e) {
      detail = e.what();
    }
  }
  // Events (or the end) may have arrived while the server was asked: nothing to report.
  if (cursor_ < st->end() || st->completed || st->failure || closed_) co_return;
  if (!status.empty() && status != "inProgress") {
    engine->log().warn("turn " + st->turn_id + " was silent for " +
                       std::to_string(silent_for.count()) + " ms and thread/read reports it " +
                       status + ": completing its stream from the server's record");
    json::object params{{"threadId", st->thread_id}, {"turn", std::move(turn)}};
    Notification done{"turn/completed", std::move(params), PendingRequest()};
    engine->router().route(std::move(done), *engine);
    co_return;
  }
  watch_from_ = steady::now();  // the next stall is reported after another full period
  throw TurnStalledError(st->turn_id, st->thread_id, silent_for, status, detail);
}

void Subscription::close() noexcept {
  closed_ = true;
  wake();
}

void Subscription::wake() noexcept {
  if (!waiter_.waiting()) return;
  try {
    engine_->schedule_wake(this);
  } catch (...) {
    waiter_.wake();  // out of memory: a post of its own (or nothing, like any failed post)
  }
}

TurnCore::~TurnCore() {
  anchor.reset();
  if (auto e = engine.lock(); e && state) e->router().release_core(*state);
}

// ---------------------------------------------------------------- Router

std::shared_ptr<TurnState> Router::state_for(const std::string& turn_id) {
  if (auto found = turns_.find_shared(turn_id)) return found;
  auto st = std::make_shared<TurnState>();
  st->turn_id = turn_id;
  st->seq = next_seq_++;
  turns_.insert(st);
  ++unclaimed_;
  if (unclaimed_ > limits_.max_unclaimed_turns) evict_unclaimed();
  return st;
}

std::shared_ptr<TurnState> Router::claim(const std::string& turn_id) {
  auto st = state_for(turn_id);
  if (!st->claimed) {
    st->claimed = true;
    --unclaimed_;
    buffered_claimed_ += st->log.size();
  }
  st->abandoned = false;
  ++st->cores;
  return st;
}

void Router::release_core(TurnState& st) {
  if (st.cores > 0) --st.cores;
  if (st.cores == 0 && st.subs.empty() && st.claimed) abandon(st);
}

void Router::abandon(TurnState& st) {
  // Nobody can read this turn any more: free its buffer and stop keeping its events.
  buffered_claimed_ -= std::min(buffered_claimed_, st.log.size());
  st.base += st.log.size();
  st.log.clear();
  st.abandoned = true;
  if (st.completed || st.failure) turns_.erase(st.turn_id, &st);
}

void Router::evict_unclaimed() {
  // Evict the oldest unclaimed turn, preferring completed ones.
  std::shared_ptr<TurnState> victim;
  for (int pass = 0; pass < 2 && !victim; ++pass) {
    turns_.for_each([&](const std::shared_ptr<TurnState>& st) {
      if (st->claimed) return;
      if (pass == 0 && !st->completed) return;
      if (!victim || st->seq < victim->seq) victim = st;
    });
  }
  if (!victim) return;
  turns_.erase(victim->turn_id);
  --unclaimed_;
}

void Router::add_sub(TurnState& st, Subscription* sub) {
  st.subs.push_back(sub);
  st.only_sub = st.subs.size() == 1 ? st.subs.front() : nullptr;
  st.abandoned = false;
}

void Router::remove_sub(TurnState& st, Subscription* sub) {
  std::erase(st.subs, sub);
  st.only_sub = st.subs.size() == 1 ? st.subs.front() : nullptr;
  if (st.subs.empty() && st.cores == 0 && st.claimed) {
    abandon(st);
    return;
  }
  prune(st);
}

void Router::prune(TurnState& st) {
  std::uint64_t low = std::numeric_limits<std::uint64_t>::max();
  if (st.only_sub) {
    low = st.only_sub->cursor();
  } else {
    if (st.subs.empty()) return;
    for (auto* s : st.subs)
      low = std::min(low, s->cursor());
  }
  std::size_t n = 0;
  while (st.base < low && !st.log.empty()) {
    st.log.pop_front();
    ++st.base;
    ++n;
  }
  if (st.claimed && n) {
    buffered_claimed_ -= std::min(buffered_claimed_, n);
    if (reader_paused && buffered_claimed_ <= limits_.max_buffered_turn_events / 2)
      engine_.reader_resume();
  }
}

void Router::route(Notification&& n, Engine& engine) {
  // Login completions go to their login's waiter.
  if (is(n.method, "account/login/completed")) {
    auto id = str_field(n.params, "loginId");
    if (!id.empty()) {
      LoginCompleted lc;
      lc.login_id = std::string(id);
      if (auto* s = n.params.if_contains("success")) lc.success = s->is_bool() && s->get_bool();
      auto err = str_field(n.params, "error");
      if (!err.empty()) lc.error = std::string(err);
      lc.raw = n.params;
      auto it = logins.find(std::string(id));
      if (it != logins.end()) {
        it->second.result = std::move(lc);
        wake(it->second.waiter);
      } else {
        if (early_logins.size() >= 64) early_logins.erase(early_logins.begin());
        early_logins.insert_or_assign(std::string(id), std::move(lc));
      }
      return;
    }
  }
  auto turn_id = n.turn_id();
  if (!turn_id.empty()) {
    // Looked up by view: no key string per event (real ids are longer than the SSO buffer), and
    // no reference count traffic (the map keeps the state alive while this runs).
    std::shared_ptr<TurnState> fresh;  // a new turn (which eviction may already have dropped)
    TurnState* st = nullptr;
    if (auto* found = turns_.find(turn_id)) {
      st = found;
    } else {
      fresh = state_for(std::string(turn_id));
      st = fresh.get();
    }
    bool completes = is(n.method, "turn/completed");
    if (completes) engine.forget_turn_handler(st->turn_id);
    if (st->abandoned) {
      if (completes) {
        st->completed = true;
        turns_.erase(st->turn_id);
      }
      return;
    }
    if (!st->claimed && st->log.size() >= limits_.max_unclaimed_turn_events) {
      st->log.pop_front();
      ++st->base;
    }
    st->log.push_back(std::move(n));
    if (stamp_events) st->last_event = steady::now();
    if (completes)
      st->completed = true;
    else if (!st->started && is(st->log.back().method, "turn/started"))
      st->started = true;
    if (st->claimed) ++buffered_claimed_;
    if (st->only_sub) {
      st->only_sub->wake();
      return;
    }
    for (auto* s : st->subs)
      s->wake();
    return;
  }
  if (events.size() >= limits_.max_client_events) {
    events.pop_front();
    ++dropped_events;
  }
  events.push_back(std::move(n));
  for (auto* w : event_waiters)
    wake(w);
}

void Router::fail_all(std::exception_ptr e) {
  turns_.for_each([&](const std::shared_ptr<TurnState>& st) {
    if (!st->completed) st->failure = e;
    for (auto* s : st->subs)
      s->wake();
  });
  for (auto& [id, slot] : logins)
    wake(slot.waiter);
  for (auto* w : event_waiters)
    wake(w);
}

// ---------------------------------------------------------------- Engine

Engine::Engine(asio::any_io_executor executor, CodexConfig config)
    : executor_(std::move(executor)),
      config_(std::move(config)),
      log_(std::make_unique<Logger>(config_.logger)),
      writer_wake_(executor_),
      reader_wake_(executor_),
      router_(config_.limits, *this) {
  router_.stamp_events = config_.turn_inactivity_timeout.count() > 0;
}

Engine::~Engine() {
  if (transport_) transport_->kill();
  if (sync_pool_) {
    sync_pool_->stop();
    sync_pool_->join();
  }
}

void Engine::throw_if_failed() const {
  if (failure_) std::rethrow_exception(failure_);
}

const InitializeResponse& Engine::metadata() const {
  if (!metadata_)
    throw CodexError("the client is not initialized yet: co_await start() (or any call) first");
  return *metadata_;
}

asio::awaitable<void> Engine::ensure_started() {
  if (state_ == State::running) co_return;
  if (state_ == State::closed) {
    throw_if_failed();
    throw TransportClosedError("the client is closed");
  }
  if (state_ == State::idle) {
    // The start runs on its own: a caller cancelled while the server starts stops waiting, and
    // the start goes on for the next call (a cancelled first call does not break the client).
    state_ = State::starting;
    auto self = shared_from_this();
    asio::co_spawn(
        executor_, [self]() { return self->run_start(); }, asio::detached);
  }
  asio::steady_timer t(executor_);
  start_waiters_.push_back(&t);
  struct Unlist {
    Engine* e;
    asio::steady_timer* t;
    ~Unlist() { std::erase(e->start_waiters_, t); }
  } unlist{this, &t};
  while (state_ == State::starting) {
    co_await wait_on(t, steady::time_point::max());
    if (state_ == State::starting && co_await is_cancelled()) throw_cancelled();
  }
  if (state_ != State::running) {
    throw_if_failed();
    throw TransportClosedError("the client is closed");
  }
}

asio::awaitable<void> Engine::run_start() {
  std::exception_ptr err;
  try {
    co_await start_impl();
    if (state_ == State::starting) state_ = State::running;
  } catch (...) {
    err = std::current_exception();
  }
  if (err) {
    if (!failure_) failure_ = err;
    state_ = State::closed;
    fail_everything(failure_);
    if (transport_) transport_->kill();
  }
  for (auto* w : start_waiters_)
    wake(w);
}

asio::awaitable<void> Engine::start_impl() {
  auto factory = config_.transport_factory;
  transport_ = factory            ? factory(executor_, config_)
               : config_.endpoint ? make_endpoint_transport(executor_, config_)
                                  : make_stdio_transport(executor_, config_);
  if (!transport_) throw CodexError("transport_factory returned no transport");
  log_->debug("starting " + transport_->describe());
  co_await transport_->open();
  auto self = shared_from_this();
  reader_running_ = writer_running_ = true;
  asio::co_spawn(
      executor_, [self]() { return self->reader_loop(); }, asio::detached);
  asio::co_spawn(
      executor_, [self]() { return self->writer_loop(); }, asio::detached);

  json::object client_info{{"name", config_.client_name},
                           {"title", config_.client_title},
                           {"version", config_.client_version}};
  json::object caps{{"experimentalApi", config_.experimental_api}};
  if (!config_.opt_out_notification_methods.empty()) {
    json::array a;
    for (auto& m : config_.opt_out_notification_methods)
      a.emplace_back(m);
    caps["optOutNotificationMethods"] = std::move(a);
  }
  json::object params{{"clientInfo", std::move(client_info)}, {"capabilities", std::move(caps)}};
  auto res = co_await raw_call("initialize", std::move(params), config_.request_timeout);
  if (!res.is_object()) throw ProtocolError("initialize result is not a JSON object");
  metadata_ = parse_initialize_response(res.get_object());
  notify("initialized", nullptr);
}

asio::awaitable<json::value> Engine::call(std::string method, json::value params,
                                          std::optional<std::chrono::milliseconds> timeout) {
  co_await ensure_started();
  co_return co_await raw_call(std::move(method), std::move(params),
                              timeout.value_or(config_.request_timeout));
}

asio::awaitable<json::value> Engine::raw_call(std::string method, json::value params,
                                              std::chrono::milliseconds timeout) {
  throw_if_failed();
  if (state_ == State::closed) throw TransportClosedError("the client is closed");
  const std::int64_t id = next_id_++;
  Pending p;
  p.method = &method;
  asio::steady_timer timer(executor_);
  p.waiter = &timer;
  pending_.emplace(id, &p);
  struct Unregister {
    Engine* e;
    std::int64_t id;
    ~Unregister() { e->pending_.erase(id); }
  } unregister{this, id};

  json::object msg;
  msg.reserve(3);
  msg.emplace("id", id);
  msg.emplace("method", method);
  if (!params.is_null()) msg.emplace("params", std::move(params));
  if (log_->trace_on()) log_->trace(">> " + redacted(msg));
  enqueue(json::serialize(msg));

  const auto deadline = deadline_after(timeout);
  Demand demand(*this);
  while (!p.done) {
    bool woken = co_await wait_on(timer, deadline);
    if (p.done) break;
    if (!woken) throw TimeoutError(method, timeout);
    if (co_await is_cancelled()) throw_cancelled();
  }
  if (p.error) std::rethrow_exception(p.error);
  co_return std::move(p.result);
}

void Engine::notify(std::string_view method, json::value params) {
  if (failure_ || !transport_) return;
  json::object msg;
  msg.emplace("method", method);
  if (!params.is_null()) msg.emplace("params", std::move(params));
  if (log_->trace_on()) log_->trace(">> " + redacted(msg));
  enqueue(json::serialize(msg));
}

void Engine::enqueue(std::string text) {
  write_queue_.push_back(std::move(text));
  writer_wake_.cancel();
}

asio::awaitable<void> Engine::writer_loop() {
  auto self = shared_from_this();
  std::vector<std::string> batch;
  try {
    for (;;) {
      while (write_queue_.empty() && !failure_)
        co_await wait_on(writer_wake_, steady::time_point::max());
      if (failure_) break;
      batch.clear();
      while (!write_queue_.empty()) {
        batch.push_back(std::move(write_queue_.front()));
        write_queue_.pop_front();
      }
      co_await transport_->write(batch);
    }
  } catch (const std::exception& e) {
    // The pipe is broken: end the connection so every caller learns it now, not at a timeout.
    log_->warn(std::string("writing to the app-server failed: ") + e.what());
    if (!failure_ && transport_) transport_->kill();
  }
  writer_running_ = false;
}

void Engine::schedule_wake(Subscription* sub) {
  if (sub->ready_slot_) return;
  ready_.push_back(sub);
  sub->ready_slot_ = ready_.size();
  if (!flush_posted_) post_flush();
}

void Engine::post_flush() {
  asio::post(executor_, [self = shared_from_this()] { self->flush_wakes(); });
  flush_posted_ = true;
}

void Engine::unschedule_wake(Subscription* sub) noexcept {
  if (!sub->ready_slot_) return;
  ready_[sub->ready_slot_ - 1] = nullptr;
  sub->ready_slot_ = 0;
}

void Engine::flush_wakes() {
  // A resumed consumer may wake others (appended, resumed in this loop) or destroy subscriptions
  // (their entries become null): walk by index.
  while (flush_from_ < ready_.size()) {
    Subscription* sub = ready_[flush_from_++];
    if (!sub) continue;
    ready_[flush_from_ - 1] = nullptr;
    sub->ready_slot_ = 0;
    try {
      sub->waiter_.wake_inline();
    } catch (...) {
      // The consumer's completion handler threw out of its resume: that goes out of run(), as
      // from any handler, and a new flush resumes the rest after it.
      flush_posted_ = false;
      if (flush_from_ < ready_.size()) post_flush();
      throw;
    }
  }
  ready_.clear();
  flush_from_ = 0;
  flush_posted_ = false;
}

void Engine::reader_resume() noexcept {
  reader_wake_.cancel();
}

asio::awaitable<void> Engine::reader_loop() {
  auto self = shared_from_this();
  std::exception_ptr why;
  try {
    for (;;) {
      // Backpressure: stop reading while claimed turns hold too many unread events, unless a
      // caller waits on the server (Demand): then pausing could only stall it. Consumers wake
      // the reader (Router::prune) once they have read half of the backlog, and so does a new
      // waiting caller (demand_begin).
      while (router_.buffered_claimed() > config_.limits.max_buffered_turn_events && demand_ == 0 &&
             !failure_) {
        router_.reader_paused = true;
        co_await wait_on(reader_wake_, steady::time_point::max());
      }
      router_.reader_paused = false;
      if (failure_) break;
      if (!co_await transport_->read(*this)) break;
    }
  } catch (...) {
    why = std::current_exception();
  }
  if (!failure_) {
    try {
      co_await transport_->wait_gone(std::chrono::seconds(2));
    } catch (...) {
    }
    on_transport_lost(why);
  }
  reader_running_ = false;
}

void Engine::on_transport_lost(std::exception_ptr why) {
  std::string reason = "the app-server connection closed";
  if (why) {
    try {
      std::rethrow_exception(why);
    } catch (const std::exception& e) {
      reason += std::string(" (") + e.what() + ")";
    } catch (...) {
    }
  }
  auto status = transport_ ? transport_->exit_status() : std::nullopt;
  std::string tail = transport_ ? transport_->stderr_tail() : std::string();
  std::string what = reason;
  if (status) what += "; exit status " + std::to_string(*status);
  if (!tail.empty()) {
    std::string t = tail.size() > 2000 ? tail.substr(tail.size() - 2000) : tail;
    what += "; stderr tail:\n" + t;
  }
  log_->warn(what);
  fail_everything(std::make_exception_ptr(TransportClosedError(what, status, tail)));
}

void Engine::fail_everything(std::exception_ptr e) {
  if (!failure_) failure_ = e;
  state_ = State::closed;
  for (auto& [id, p] : pending_) {
    if (!p->done) {
      p->done = true;
      p->error = failure_;
      wake(p->waiter);
    }
  }
  router_.fail_all(failure_);
  writer_wake_.cancel();
  reader_wake_.cancel();
  for (auto& [id, w] : server_requests_) {
    if (auto st = w.lock()) {
      st->done = true;
      st->handler_cancel.emit(asio::cancellation_type::terminal);
      st->timeout_cancel.emit(asio::cancellation_type::terminal);
    }
  }
  server_requests_.clear();
}

void Engine::on_oversize(std::size_t bytes) {
  log_->warn("skipped a message of " + std::to_string(bytes) + " bytes (limit " +
             std::to_string(config_.limits.max_line_bytes) + ")");
}

void Engine::on_message(std::string_view text) {
  boost::system::error_code ec;
  parser_.reset();
  parser_.write(text.data(), text.size(), ec);
  if (ec) {
    log_->warn("skipped a line that is not JSON (" + ec.message() +
               "): " + std::string(text.substr(0, 200)));
    return;
  }
  json::value v = parser_.release();
  auto* msg = v.if_object();
  if (!msg) {
    log_->warn("skipped a JSON message that is not an object: " + std::string(text.substr(0, 200)));
    return;
  }
  if (log_->trace_on()) log_->trace("<< " + redacted(v));
  auto* method = msg->if_contains("method");
  bool has_id = msg->contains("id");
  if (method && method->is_string()) {
    if (has_id) {
      on_server_request(*msg);
      return;
    }
    Notification n;
    n.method = MethodName(std::string_view(method->get_string()));
    if (auto* p = msg->if_contains("params"); p && p->is_object())
      n.params = std::move(p->get_object());
    if (is(n.method, "serverRequest/resolved")) {
      if (auto* rid = n.params.if_contains("requestId"); rid && rid->is_int64()) {
        auto it = server_requests_.find(rid->get_int64());
        if (it != server_requests_.end()) {
          if (auto st = it->second.lock()) {
            if (!st->done.exchange(true)) st->resolved_by_server = true;
            st->handler_cancel.emit(asio::cancellation_type::terminal);
            st->timeout_cancel.emit(asio::cancellation_type::terminal);
          }
          server_requests_.erase(it);
        }
      }
    }
    router_.route(std::move(n), *this);
    return;
  }
  if (has_id && (msg->contains("result") || msg->contains("error"))) {
    on_response(*msg);
    return;
  }
  log_->warn("skipped a message that is neither a request, a response nor a notification: " +
             std::string(text.substr(0, 200)));
}

void Engine::on_response(json::object& msg) {
  auto& idv = msg["id"];
  if (!idv.is_int64()) {
    log_->debug("dropped a response with a foreign id: " + json::serialize(idv));
    return;
  }
  auto it = pending_.find(idv.get_int64());
  if (it == pending_.end()) {
    log_->debug("dropped a response to an unknown or abandoned request id " +
                std::to_string(idv.get_int64()));
    return;
  }
  Pending& p = *it->second;
  if (auto* err = msg.if_contains("error")) {
    if (auto* eo = err->if_object()) {
      std::int64_t code = -32000;
      if (auto* c = eo->if_contains("code"); c && c->is_number())
        code = c->to_number<std::int64_t>();
      std::string message = "unknown";
      if (auto* m = eo->if_contains("message"); m && m->is_string())
        message = std::string(m->get_string());
      json::value data = nullptr;
      if (auto* d = eo->if_contains("data")) data = std::move(*d);
      p.error = make_jsonrpc_error(code, std::move(message), std::move(data), *p.method);
    } else {
      p.error =
          std::make_exception_ptr(ProtocolError(*p.method + ": malformed JSON-RPC error response"));
    }
  } else {
    p.result = std::move(msg["result"]);
  }
  p.done = true;
  wake(p.waiter);
}

ApprovalHandler Engine::handler_for(const ServerRequest& r) const {
  if (!r.turn_id.empty()) {
    auto it = turn_handlers_.find(r.turn_id);
    if (it != turn_handlers_.end() && it->second) return it->second;
  }
  if (!r.thread_id.empty()) {
    auto it = thread_handlers_.find(r.thread_id);
    if (it != thread_handlers_.end() && it->second) return it->second;
  }
  return config_.approval_handler;
}

void Engine::on_server_request(json::object& msg) {
  auto st = std::make_shared<PendingRequestState>();
  auto& r = st->request;
  r.id = std::move(msg["id"]);
  r.method = std::string(msg["method"].get_string());
  r.kind = server_request_kind(r.method);
  if (auto* p = msg.if_contains("params"); p && p->is_object())
    r.params = std::move(p->get_object());
  r.thread_id = std::string(str_field(r.params, "threadId"));
  if (r.thread_id.empty()) r.thread_id = std::string(str_field(r.params, "conversationId"));
  r.turn_id = std::string(str_field(r.params, "turnId"));
  r.item_id = std::string(str_field(r.params, "itemId"));
  if (r.item_id.empty()) r.item_id = std::string(str_field(r.params, "callId"));
  st->engine = weak_from_this();
  st->executor = executor_;
  if (r.id.is_int64()) server_requests_[r.id.get_int64()] = st;

  Notification n;
  n.method = r.method;
  n.params = r.params;
  n.request = PendingRequest(st);
  router_.route(std::move(n), *this);

  auto self = shared_from_this();
  // The completion handler holds `st`: the signal bound to the coroutine must outlive it.
  asio::co_spawn(
      executor_, run_handler(st),
      asio::bind_cancellation_slot(st->handler_cancel.slot(), [st](std::exception_ptr) {}));
  if (config_.approval_timeout.count() > 0) {
    // Fail closed when nobody answers in time (cancelled by the answer).
    auto timeout = config_.approval_timeout;
    asio::co_spawn(
        executor_,
        [self, st, timeout]() -> asio::awaitable<void> {
          if (st->done) co_return;  // answered before this coroutine started
          asio::steady_timer t(self->executor_, timeout);
          auto [ec] = co_await t.async_wait(asio::as_tuple(use_awaitable));
          if (!ec && !st->done.exchange(true)) {
            self->log_->info("server request " + st->request.method + " timed out; refusing it");
            self->send_reply(st, ServerReply::refuse(st->request));
          }
        },
        asio::bind_cancellation_slot(st->timeout_cancel.slot(), [st](std::exception_ptr) {}));
  }
}

asio::awaitable<void> Engine::run_handler(std::shared_ptr<PendingRequestState> st) {
  auto self = shared_from_this();
  // co_spawn starts this inline, inside the reader. Yield once so that what the reader already
  // completed runs first: a `turn(...)` whose response came in the same read resumes and
  // registers its per-turn handler before the handler is chosen.
  co_await asio::post(executor_, use_awaitable);
  if (st->done) co_return;  // answered or withdrawn meanwhile
  ApprovalHandler h = handler_for(st->request);
  ServerReply reply;
  bool have = false;
  try {
    if (h.async_handler()) {
      reply = co_await h.async_handler()(st->request);
      have = true;
    } else if (h.sync_handler()) {
      if (!sync_pool_) sync_pool_ = std::make_unique<asio::thread_pool>(2);
      auto fn = h.sync_handler();
      const ServerRequest* req = &st->request;
      // (A named function object: GCC 12 destroys a lambda temporary inside co_await twice.)
      std::function<asio::awaitable<ServerReply>()> on_pool =
          [fn, req]() -> asio::awaitable<ServerReply> { co_return fn(*req); };
      reply =
          co_await asio::co_spawn(sync_pool_->get_executor(), std::move(on_pool), use_awaitable);
      have = true;
    } else {
      reply = ServerReply::refuse(st->request);
      have = true;
    }
  } catch (const boost::system::system_error& e) {
    if (st->done) co_return;  // answered elsewhere or withdrawn: the wait was cancelled
    reply = ServerReply::with_error(-32603, std::string("approval handler failed: ") + e.what());
    have = true;
  } catch (const std::exception& e) {
    reply = ServerReply::with_error(-32603, std::string("approval handler failed: ") + e.what());
    have = true;
  } catch (...) {
    reply = ServerReply::with_error(-32603, "approval handler failed");
    have = true;
  }
  st->handler_finished = true;
  if (have && !st->done.exchange(true)) send_reply(st, reply);
}

void Engine::send_reply(const std::shared_ptr<PendingRequestState>& st, const ServerReply& reply) {
  if (st->request.id.is_int64()) server_requests_.erase(st->request.id.get_int64());
  // Cancel a handler still waiting (the program answered first), never the one replying now.
  if (!st->handler_finished) st->handler_cancel.emit(asio::cancellation_type::terminal);
  st->timeout_cancel.emit(asio::cancellation_type::terminal);
  if (failure_ || !transport_) return;
  json::object msg;
  msg.emplace("id", st->request.id);
  if (reply.result && reply.error_code == 0) {
    msg.emplace("result", *reply.result);
  } else {
    json::object e{{"code", reply.error_code ? reply.error_code : -32603},
                   {"message", reply.error_message.empty() ? "refused" : reply.error_message}};
    msg.emplace("error", std::move(e));
  }
  if (log_->trace_on()) log_->trace(">> " + redacted(msg));
  enqueue(json::serialize(msg));
}

void Engine::set_thread_handler(const std::string& thread_id, ApprovalHandler h) {
  if (h) thread_handlers_[thread_id] = std::move(h);
}

void Engine::set_turn_handler(const std::string& turn_id, ApprovalHandler h) {
  if (h) turn_handlers_[turn_id] = std::move(h);
}

std::shared_ptr<TurnCore> Engine::claim_turn(std::string thread_id, std::string turn_id) {
  auto core = std::make_shared<TurnCore>();
  core->engine = weak_from_this();
  core->thread_id = std::move(thread_id);
  core->turn_id = std::move(turn_id);
  core->state = router_.claim(core->turn_id);
  if (core->state->thread_id.empty()) core->state->thread_id = core->thread_id;
  if (failure_ && !core->state->completed) core->state->failure = failure_;
  core->anchor = std::make_shared<Subscription>(shared_from_this(), core->state, core->state->base);
  return core;
}

std::shared_ptr<ThreadRecord> Engine::thread_record(const std::string& thread_id) {
  auto it = threads_.find(thread_id);
  if (it != threads_.end()) return it->second;
  // Bounded: past 4096 threads, forget the records nobody holds and no start is using.
  if (threads_.size() >= 4096) {
    std::erase_if(threads_, [](const auto& kv) {
      return kv.second.use_count() == 1 && kv.second->starts_in_flight == 0;
    });
  }
  return threads_.emplace(thread_id, std::make_shared<ThreadRecord>()).first->second;
}

std::shared_ptr<Subscription> Engine::subscribe(const std::shared_ptr<TurnState>& st) {
  return std::make_shared<Subscription>(shared_from_this(), st, st->base);
}

void Engine::expect_login(const std::string& login_id) {
  auto& slot = router_.logins[login_id];
  auto it = router_.early_logins.find(login_id);
  if (it != router_.early_logins.end()) {
    slot.result = std::move(it->second);
    router_.early_logins.erase(it);
  }
}

asio::awaitable<LoginCompleted> Engine::wait_login(
    std::string login_id, std::optional<std::chrono::milliseconds> timeout) {
  expect_login(login_id);
  asio::steady_timer t(executor_);
  const auto deadline = deadline_after(timeout.value_or(std::chrono::milliseconds(0)));
  for (;;) {
    auto& slot = router_.logins[login_id];
    if (slot.result) {
      LoginCompleted r = std::move(*slot.result);
      router_.logins.erase(login_id);
      co_return r;
    }
    throw_if_failed();
    slot.waiter = &t;
    Demand demand(*this);
    bool woken = co_await wait_on(t, deadline);
    router_.logins[login_id].waiter = nullptr;
    if (router_.logins[login_id].result) continue;
    if (failure_) continue;
    if (!woken) throw TimeoutError("account/login/completed", *timeout);
    if (co_await is_cancelled()) throw_cancelled();
  }
}

asio::awaitable<Notification> Engine::next_event(std::optional<std::chrono::milliseconds> timeout) {
  co_await ensure_started();
  asio::steady_timer t(executor_);
  const auto deadline = deadline_after(timeout.value_or(std::chrono::milliseconds(0)));
  for (;;) {
    if (!router_.events.empty()) {
      Notification n = std::move(router_.events.front());
      router_.events.pop_front();
      co_return n;
    }
    throw_if_failed();
    router_.event_waiters.push_back(&t);
    Demand demand(*this);
    bool woken = co_await wait_on(t, deadline);
    std::erase(router_.event_waiters, &t);
    if (!router_.events.empty() || failure_) continue;
    if (!woken) throw TimeoutError("next_event", *timeout);
    if (co_await is_cancelled()) throw_cancelled();
  }
}

asio::awaitable<void> Engine::close() {
  if (state_ == State::idle) {
    state_ = State::closed;
    failure_ = std::make_exception_ptr(TransportClosedError("the client is closed"));
    co_return;
  }
  if (state_ == State::starting) {
    // Let the start finish (or fail) first, so the process is not orphaned.
    try {
      co_await ensure_started();
    } catch (...) {
    }
  }
  if (!transport_) co_return;
  auto self = shared_from_this();
  if (!failure_) {
    // Pending calls and streams end now; anything still queued is not sent.
    fail_everything(std::make_exception_ptr(TransportClosedError("the client is closed")));
  }
  try {
    co_await transport_->shutdown(config_.shutdown_timeout);
  } catch (const std::exception& e) {
    log_->warn(std::string("shutdown: ") + e.what());
    transport_->kill();
  }
  // Let the loops observe the end.
  asio::steady_timer t(executor_);
  for (int i = 0; i < 200 && (reader_running_ || writer_running_); ++i) {
    reader_wake_.cancel();
    writer_wake_.cancel();
    co_await wait_on(t, steady::now() + std::chrono::milliseconds(5));
  }
}

void Engine::kill_now() noexcept {
  if (transport_) transport_->kill();
  if (!failure_) {
    try {
      fail_everything(std::make_exception_ptr(TransportClosedError("the client is closed")));
    } catch (...) {
    }
  }
}

}  // namespace codex::detail
