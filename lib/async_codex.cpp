// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
#include <codex/async_codex.hpp>

#include "engine.hpp"

#include <codex/errors.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

namespace codex {

namespace json = boost::json;
using detail::Engine;

namespace {

json::object expect_object(json::value v, std::string_view method) {
  if (auto* o = v.if_object()) return std::move(*o);
  throw ProtocolError(std::string(method) + " response must be a JSON object");
}

std::string thread_id_of(const json::object& res, std::string_view method) {
  if (auto* t = res.if_contains("thread"); t && t->is_object())
    if (auto* id = t->get_object().if_contains("id"); id && id->is_string())
      return std::string(id->get_string());
  throw ProtocolError(std::string(method) + " response has no thread.id");
}

std::string str_or_throw(const json::object& o, std::string_view key, std::string_view what) {
  if (auto* v = o.if_contains(key); v && v->is_string()) return std::string(v->get_string());
  throw ProtocolError("unexpected " + std::string(what) + " response: " + json::serialize(o));
}

CancelLoginResponse parse_cancel(json::object o) {
  CancelLoginResponse r;
  if (auto* s = o.if_contains("status"); s && s->is_string()) {
    if (s->get_string() == "canceled")
      r.status = CancelLoginStatus::canceled;
    else if (s->get_string() == "notFound")
      r.status = CancelLoginStatus::not_found;
  }
  r.raw = std::move(o);
  return r;
}

}  // namespace

// ---------------------------------------------------------------- AsyncTurnStream

AsyncTurnStream::AsyncTurnStream(std::shared_ptr<detail::Subscription> sub) noexcept
    : sub_(std::move(sub)) {}

AsyncTurnStream::AsyncTurnStream(AsyncTurnStream&&) noexcept = default;
AsyncTurnStream& AsyncTurnStream::operator=(AsyncTurnStream&&) noexcept = default;
AsyncTurnStream::~AsyncTurnStream() = default;

TurnResult AsyncTurnStream::result() const {
  std::string id = sub_ ? sub_->state()->turn_id : std::string();
  if (!builder_ || !builder_->completed)
    throw CodexError("turn " + id + ": the stream has not yielded turn/completed");
  return builder_->finish(id);
}

namespace {
awaitable<std::optional<Notification>> no_event() {
  co_return std::nullopt;
}
}  // namespace

awaitable<std::optional<Notification>> AsyncTurnStream::next(
    std::optional<std::chrono::milliseconds> timeout) {
  if (!sub_) return no_event();
  if (!builder_) builder_ = std::make_unique<detail::ResultBuilder>();
  // Not a coroutine of its own: the subscription's (one frame per event, buffered or not). It
  // holds the subscription, so close() from elsewhere ends the wait instead of destroying it.
  return detail::Subscription::next(sub_, timeout.value_or(std::chrono::milliseconds(0)),
                                    builder_.get());
}

std::optional<Notification> AsyncTurnStream::try_next() {
  if (!sub_) return std::nullopt;
  auto ev = sub_->try_next();
  if (ev) {
    if (!builder_) builder_ = std::make_unique<detail::ResultBuilder>();
    builder_->feed(*ev);
  }
  return ev;
}

bool AsyncTurnStream::done() const noexcept {
  return !sub_ || sub_->finished();
}

void AsyncTurnStream::close() noexcept {
  if (sub_) sub_->close();
  sub_.reset();
}

// ---------------------------------------------------------------- AsyncTurnHandle

AsyncTurnHandle::AsyncTurnHandle(std::shared_ptr<Engine> engine,
                                 std::shared_ptr<detail::TurnCore> core)
    : engine_(std::move(engine)), core_(std::move(core)) {}

const std::string& AsyncTurnHandle::id() const noexcept {
  static const std::string empty;
  return core_ ? core_->turn_id : empty;
}

const std::string& AsyncTurnHandle::thread_id() const noexcept {
  static const std::string empty;
  return core_ ? core_->thread_id : empty;
}

awaitable<json::object> AsyncTurnHandle::steer(Input input, CallOptions opts) {
  if (!core_) throw std::logic_error("steer() on an empty AsyncTurnHandle");
  if (input.external_message())
    throw std::invalid_argument(
        "steer() does not take an ExternalMessage: pass it to thread.turn() or run(), which "
        "join the active turn");
  json::object p{{"threadId", core_->thread_id},
                 {"expectedTurnId", core_->turn_id},
                 {"input", input.to_wire()}};
  auto e = engine_;
  co_return expect_object(co_await e->call("turn/steer", std::move(p), opts.timeout), "turn/steer");
}

awaitable<json::object> AsyncTurnHandle::interrupt(CallOptions opts) {
  if (!core_) throw std::logic_error("interrupt() on an empty AsyncTurnHandle");
  auto e = engine_;
  auto core = core_;
  const json::object p{{"threadId", core->thread_id}, {"turnId", core->turn_id}};
  try {
    json::object first = p;
    co_return expect_object(co_await e->call("turn/interrupt", std::move(first), opts.timeout),
                            "turn/interrupt");
  } catch (const InvalidRequestError&) {
    // The server refuses to interrupt a turn it has not started yet ("no active turn to
    // interrupt" before its `turn/started`, observed with 0.169.0). Unless the turn has started
    // or ended, wait for its start and ask again.
    if (core->state->started || core->state->completed) throw;
  }
  const auto wait_for = opts.timeout.value_or(e->config().request_timeout);
  const auto deadline = detail::deadline_after(wait_for);
  auto sub = e->subscribe(core->state);
  while (!core->state->started && !core->state->completed) {
    auto left = std::chrono::milliseconds(0);
    if (deadline != detail::steady::time_point::max()) {
      left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - detail::steady::now());
      if (left.count() <= 0) throw TimeoutError("turn/interrupt", wait_for);
    }
    try {
      if (!co_await detail::Subscription::next(sub, left)) break;
    } catch (const TurnStalledError&) {
      // The watchdog speaks to readers of the turn; this wait has its own deadline.
    }
  }
  sub.reset();
  json::object again = p;
  co_return expect_object(co_await e->call("turn/interrupt", std::move(again), opts.timeout),
                          "turn/interrupt");
}

AsyncTurnStream AsyncTurnHandle::stream() {
  if (!core_) throw std::logic_error("stream() on an empty AsyncTurnHandle");
  if (core_->anchor) return AsyncTurnStream(std::move(core_->anchor));
  return AsyncTurnStream(engine_->subscribe(core_->state));
}

awaitable<TurnResult> AsyncTurnHandle::collect(EventObserver on_event) {
  if (!core_) throw std::logic_error("collect() on an empty AsyncTurnHandle");
  co_return co_await detail::collect_turn(engine_, core_, std::move(on_event));
}

awaitable<TurnResult> AsyncTurnHandle::run(EventObserver on_event) {
  TurnResult r = co_await collect(std::move(on_event));
  if (r.status == TurnStatus::failed) throw TurnFailedError(std::move(r));
  co_return r;
}

namespace detail {

void ResultBuilder::feed(const Notification& ev) {
  const std::string_view m = ev.method;  // (compares sizes first)
  if (m == "item/completed") {
    if (auto* it = ev.params.if_contains("item"); it && it->is_object())
      r.items.push_back(it->get_object());
  } else if (m == "thread/tokenUsage/updated") {
    if (auto* u = ev.params.if_contains("tokenUsage"); u && u->is_object())
      r.usage = parse_token_usage(u->get_object());
  } else if (m == "turn/completed") {
    auto* t = ev.params.if_contains("turn");
    if (!t || !t->is_object()) return;
    auto& turn = t->get_object();
    completed = true;
    if (auto* s = turn.if_contains("status"); s && s->is_string())
      r.status = turn_status_from_wire(s->get_string());
    if (auto* e = turn.if_contains("error"); e && e->is_object())
      r.error = parse_turn_error(e->get_object());
    auto num = [&](std::string_view k) -> std::optional<std::int64_t> {
      if (auto* v = turn.if_contains(k); v && v->is_number()) return v->to_number<std::int64_t>();
      return std::nullopt;
    };
    r.started_at = num("startedAt");
    r.completed_at = num("completedAt");
    r.duration_ms = num("durationMs");
    r.turn = turn;
  }
}

TurnResult ResultBuilder::finish(const std::string& turn_id) const {
  if (!completed) throw CodexError("turn " + turn_id + ": turn/completed was not received");
  TurnResult out = r;
  out.id = turn_id;
  out.final_response = final_response_from_items(out.items);
  return out;
}

asio::awaitable<TurnResult> collect_turn(std::shared_ptr<Engine> engine,
                                         std::shared_ptr<TurnCore> core, EventObserver on_event) {
  AsyncTurnStream stream = core->anchor ? AsyncTurnStream(std::move(core->anchor))
                                        : AsyncTurnStream(engine->subscribe(core->state));
  while (auto ev = co_await stream.next()) {
    if (on_event) on_event(*ev);
  }
  co_return stream.result();
}

}  // namespace detail

// ---------------------------------------------------------------- AsyncThread

AsyncThread::AsyncThread(std::shared_ptr<Engine> engine, std::string id, json::object response)
    : engine_(std::move(engine)), id_(std::move(id)), response_(std::move(response)) {}

namespace {

/// Runs `turn/start` apart from the caller (see AsyncThread::turn) and records the turn.
awaitable<void> start_turn(std::shared_ptr<Engine> e, std::shared_ptr<detail::ThreadRecord> rec,
                           std::shared_ptr<detail::TurnStartOp> op, json::object params,
                           std::optional<std::chrono::milliseconds> timeout,
                           ApprovalHandler handler) {
  try {
    auto res =
        expect_object(co_await e->call("turn/start", std::move(params), timeout), "turn/start");
    std::string turn_id;
    if (auto* t = res.if_contains("turn"); t && t->is_object())
      if (auto* id = t->get_object().if_contains("id"); id && id->is_string())
        turn_id = std::string(id->get_string());
    if (turn_id.empty()) throw ProtocolError("turn/start response has no turn.id");
    if (handler) e->set_turn_handler(turn_id, std::move(handler));
    rec->last_turn_id = turn_id;
    op->turn_id = std::move(turn_id);
  } catch (...) {
    op->error = std::current_exception();
  }
  op->done = true;
  --rec->starts_in_flight;
  op->waiter.wake();
  rec->wake_all();
}

}  // namespace

awaitable<AsyncTurnHandle> AsyncThread::turn(Input input, TurnOptions opts) {
  if (!engine_) throw std::logic_error("turn() on an empty AsyncThread");
  auto params = detail::turn_start_params(id_, input, opts);
  auto e = engine_;
  // The request runs in a coroutine of its own: if this caller is cancelled (or its wait times
  // out) while `turn/start` is in flight, the turn the server starts is still recorded, and
  // `last_turn()` hands it over (to interrupt it, or to read it).
  // `opts.timeout` bounds this caller's wait; the request itself keeps at least the client's
  // request deadline, so that a start given up on early is still answered and recorded.
  const auto wait_for = opts.timeout.value_or(e->config().request_timeout);
  std::optional<std::chrono::milliseconds> request_for;
  if (opts.timeout && opts.timeout->count() > 0 && e->config().request_timeout.count() > 0)
    request_for = std::max(*opts.timeout, e->config().request_timeout);
  else if (opts.timeout)
    request_for = std::chrono::milliseconds(0);  // no deadline
  auto rec = e->thread_record(id_);
  auto op = std::make_shared<detail::TurnStartOp>(e->executor());
  ++rec->starts_in_flight;
  auto task =
      start_turn(e, rec, op, std::move(params), request_for, std::move(opts.approval_handler));
  boost::asio::co_spawn(e->executor(), std::move(task), boost::asio::detached);
  const auto deadline = detail::deadline_after(wait_for);
  while (!op->done) {
    auto [ec] =
        co_await op->waiter.async_wait(deadline, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (op->done) break;
    if (ec == boost::asio::error::timed_out) throw TimeoutError("turn/start", wait_for);
    if (ec == boost::asio::error::operation_aborted || co_await detail::is_cancelled())
      detail::throw_cancelled();
  }
  if (op->error) std::rethrow_exception(op->error);
  co_return AsyncTurnHandle(e, e->claim_turn(id_, op->turn_id));
}

awaitable<std::optional<AsyncTurnHandle>> AsyncThread::last_turn(CallOptions opts) {
  if (!engine_) throw std::logic_error("last_turn() on an empty AsyncThread");
  auto e = engine_;
  auto rec = e->thread_record(id_);
  const auto timeout = opts.timeout.value_or(e->config().request_timeout);
  const auto deadline = detail::deadline_after(timeout);
  while (rec->starts_in_flight > 0) {
    detail::Waiter w(e->executor());
    struct Listed {
      detail::ThreadRecord& r;
      detail::Waiter* w;
      ~Listed() { std::erase(r.waiters, w); }
    } listed{*rec, &w};
    rec->waiters.push_back(&w);
    auto [ec] = co_await w.async_wait(deadline, boost::asio::as_tuple(boost::asio::use_awaitable));
    if (rec->starts_in_flight == 0) break;
    if (ec == boost::asio::error::timed_out) throw TimeoutError("last_turn", timeout);
    if (ec == boost::asio::error::operation_aborted || co_await detail::is_cancelled())
      detail::throw_cancelled();
  }
  if (rec->last_turn_id.empty()) co_return std::nullopt;
  co_return AsyncTurnHandle(e, e->claim_turn(id_, rec->last_turn_id));
}

awaitable<TurnResult> AsyncThread::run(Input input, TurnOptions opts, EventObserver on_event) {
  auto h = co_await turn(std::move(input), std::move(opts));
  co_return co_await h.run(std::move(on_event));
}

awaitable<json::object> AsyncThread::read(ReadOptions opts) {
  if (!engine_) throw std::logic_error("read() on an empty AsyncThread");
  auto e = engine_;
  json::object p{{"threadId", id_}, {"includeTurns", opts.include_turns}};
  co_return expect_object(co_await e->call("thread/read", std::move(p), opts.timeout),
                          "thread/read");
}

awaitable<json::object> AsyncThread::set_name(std::string name, CallOptions opts) {
  if (!engine_) throw std::logic_error("set_name() on an empty AsyncThread");
  auto e = engine_;
  json::object p{{"threadId", id_}, {"name", std::move(name)}};
  co_return expect_object(co_await e->call("thread/name/set", std::move(p), opts.timeout),
                          "thread/name/set");
}

awaitable<json::object> AsyncThread::compact(CallOptions opts) {
  if (!engine_) throw std::logic_error("compact() on an empty AsyncThread");
  auto e = engine_;
  json::object p{{"threadId", id_}};
  co_return expect_object(co_await e->call("thread/compact/start", std::move(p), opts.timeout),
                          "thread/compact/start");
}

// ---------------------------------------------------------------- login handles

namespace {

awaitable<LoginCompleted> wait_for_login(std::shared_ptr<Engine> e, std::string login_id,
                                         std::optional<std::chrono::milliseconds> timeout) {
  if (!e) throw std::logic_error("wait() on an empty login handle");
  co_return co_await e->wait_login(std::move(login_id), timeout);
}

awaitable<CancelLoginResponse> cancel_login(std::shared_ptr<Engine> e, std::string login_id,
                                            CallOptions opts) {
  if (!e) throw std::logic_error("cancel() on an empty login handle");
  json::object p{{"loginId", std::move(login_id)}};
  co_return parse_cancel(
      expect_object(co_await e->call("account/login/cancel", std::move(p), opts.timeout),
                    "account/login/cancel"));
}

}  // namespace

AsyncChatgptLoginHandle::AsyncChatgptLoginHandle(std::shared_ptr<Engine> engine,
                                                 std::string login_id, std::string auth_url)
    : engine_(std::move(engine)), login_id_(std::move(login_id)), auth_url_(std::move(auth_url)) {}

awaitable<LoginCompleted> AsyncChatgptLoginHandle::wait(
    std::optional<std::chrono::milliseconds> timeout) {
  return wait_for_login(engine_, login_id_, timeout);
}

awaitable<CancelLoginResponse> AsyncChatgptLoginHandle::cancel(CallOptions opts) {
  return cancel_login(engine_, login_id_, std::move(opts));
}

AsyncDeviceCodeLoginHandle::AsyncDeviceCodeLoginHandle(std::shared_ptr<Engine> engine,
                                                       std::string login_id,
                                                       std::string verification_url,
                                                       std::string user_code)
    : engine_(std::move(engine)),
      login_id_(std::move(login_id)),
      verification_url_(std::move(verification_url)),
      user_code_(std::move(user_code)) {}

awaitable<LoginCompleted> AsyncDeviceCodeLoginHandle::wait(
    std::optional<std::chrono::milliseconds> timeout) {
  return wait_for_login(engine_, login_id_, timeout);
}

awaitable<CancelLoginResponse> AsyncDeviceCodeLoginHandle::cancel(CallOptions opts) {
  return cancel_login(engine_, login_id_, std::move(opts));
}

// ---------------------------------------------------------------- AsyncCodex

AsyncCodex::AsyncCodex(executor_type executor, CodexConfig config)
    : engine_(std::make_shared<Engine>(std::move(executor), std::move(config))) {}

AsyncCodex::AsyncCodex(AsyncCodex&&) noexcept = default;

AsyncCodex& AsyncCodex::operator=(AsyncCodex&& o) noexcept {
  if (this != &o) {
    if (engine_) engine_->kill_now();
    engine_ = std::move(o.engine_);
  }
  return *this;
}

AsyncCodex::~AsyncCodex() {
  if (engine_) engine_->kill_now();
}

AsyncCodex::executor_type AsyncCodex::get_executor() const noexcept {
  return engine_->executor();
}

awaitable<void> AsyncCodex::start() {
  auto e = engine_;
  co_await e->ensure_started();
}

const InitializeResponse& AsyncCodex::metadata() const {
  return engine_->metadata();
}

awaitable<void> AsyncCodex::close() {
  auto e = engine_;
  co_await e->close();
}

awaitable<void> AsyncCodex::reconnect() {
  auto old = engine_;
  // Calls made from now on go to the new connection; the old one's objects fail (sticky).
  engine_ = std::make_shared<Engine>(old->executor(), old->config());
  auto fresh = engine_;
  if (old->failure())
    old->kill_now();
  else
    co_await old->close();
  co_await fresh->ensure_started();
}

awaitable<void> AsyncCodex::login_api_key(std::string api_key, CallOptions opts) {
  if (api_key.empty()) throw std::invalid_argument("api_key must not be empty");
  auto e = engine_;
  json::object p{{"type", "apiKey"}, {"apiKey", std::move(api_key)}};
  co_await e->call("account/login/start", std::move(p), opts.timeout);
}

awaitable<AsyncChatgptLoginHandle> AsyncCodex::login_chatgpt(CallOptions opts) {
  auto e = engine_;
  json::object params{{"type", "chatgpt"}};
  auto res = expect_object(co_await e->call("account/login/start", std::move(params), opts.timeout),
                           "account/login/start");
  auto id = str_or_throw(res, "loginId", "ChatGPT login");
  auto url = str_or_throw(res, "authUrl", "ChatGPT login");
  e->expect_login(id);
  co_return AsyncChatgptLoginHandle(e, std::move(id), std::move(url));
}

awaitable<AsyncDeviceCodeLoginHandle> AsyncCodex::login_chatgpt_device_code(CallOptions opts) {
  auto e = engine_;
  json::object params{{"type", "chatgptDeviceCode"}};
  auto res = expect_object(co_await e->call("account/login/start", std::move(params), opts.timeout),
                           "account/login/start");
  auto id = str_or_throw(res, "loginId", "device-code login");
  auto url = str_or_throw(res, "verificationUrl", "device-code login");
  auto code = str_or_throw(res, "userCode", "device-code login");
  e->expect_login(id);
  co_return AsyncDeviceCodeLoginHandle(e, std::move(id), std::move(url), std::move(code));
}

awaitable<AccountInfo> AsyncCodex::account(AccountOptions opts) {
  auto e = engine_;
  json::object params{{"refreshToken", opts.refresh_token}};
  auto res = expect_object(co_await e->call("account/read", std::move(params), opts.timeout),
                           "account/read");
  AccountInfo a;
  if (auto* acc = res.if_contains("account"); acc && acc->is_object())
    a.account = acc->get_object();
  if (auto* r = res.if_contains("requiresOpenaiAuth"); r && r->is_bool())
    a.requires_openai_auth = r->get_bool();
  a.raw = std::move(res);
  co_return a;
}

awaitable<void> AsyncCodex::logout(CallOptions opts) {
  auto e = engine_;
  co_await e->call("account/logout", nullptr, opts.timeout);
}

awaitable<AsyncThread> AsyncCodex::thread_start(ThreadStartOptions opts) {
  auto e = engine_;
  auto params = detail::thread_start_params(opts);
  auto res = expect_object(co_await e->call("thread/start", std::move(params), opts.timeout),
                           "thread/start");
  auto id = thread_id_of(res, "thread/start");
  e->set_thread_handler(id, std::move(opts.approval_handler));
  co_return AsyncThread(e, std::move(id), std::move(res));
}

awaitable<json::object> AsyncCodex::thread_list(ThreadListOptions opts) {
  auto e = engine_;
  co_return expect_object(
      co_await e->call("thread/list", detail::thread_list_params(opts), opts.timeout),
      "thread/list");
}

awaitable<AsyncThread> AsyncCodex::thread_resume(std::string thread_id, ThreadResumeOptions opts) {
  auto e = engine_;
  auto params = detail::thread_resume_params(thread_id, opts);
  auto res = expect_object(co_await e->call("thread/resume", std::move(params), opts.timeout),
                           "thread/resume");
  auto id = thread_id_of(res, "thread/resume");
  e->set_thread_handler(id, std::move(opts.approval_handler));
  co_return AsyncThread(e, std::move(id), std::move(res));
}

awaitable<AsyncThread> AsyncCodex::thread_fork(std::string thread_id, ThreadForkOptions opts) {
  auto e = engine_;
  auto params = detail::thread_fork_params(thread_id, opts);
  auto res = expect_object(co_await e->call("thread/fork", std::move(params), opts.timeout),
                           "thread/fork");
  auto id = thread_id_of(res, "thread/fork");
  e->set_thread_handler(id, std::move(opts.approval_handler));
  co_return AsyncThread(e, std::move(id), std::move(res));
}

awaitable<json::object> AsyncCodex::thread_archive(std::string thread_id, CallOptions opts) {
  if (thread_id.empty()) throw std::invalid_argument("thread_id must not be empty");
  auto e = engine_;
  json::object params{{"threadId", thread_id}};
  co_return expect_object(co_await e->call("thread/archive", std::move(params), opts.timeout),
                          "thread/archive");
}

awaitable<AsyncThread> AsyncCodex::thread_unarchive(std::string thread_id, CallOptions opts) {
  if (thread_id.empty()) throw std::invalid_argument("thread_id must not be empty");
  auto e = engine_;
  json::object params{{"threadId", thread_id}};
  auto res = expect_object(co_await e->call("thread/unarchive", std::move(params), opts.timeout),
                           "thread/unarchive");
  std::string id = thread_id;
  if (auto* t = res.if_contains("thread"); t && t->is_object())
    id = thread_id_of(res, "thread/unarchive");
  co_return AsyncThread(e, std::move(id), std::move(res));
}

awaitable<json::object> AsyncCodex::models(ModelsOptions opts) {
  auto e = engine_;
  co_return expect_object(co_await e->call("model/list", detail::models_params(opts), opts.timeout),
                          "model/list");
}

AsyncTurnHandle AsyncCodex::turn_handle(std::string thread_id, std::string turn_id) {
  return AsyncTurnHandle(engine_, engine_->claim_turn(std::move(thread_id), std::move(turn_id)));
}

awaitable<json::value> AsyncCodex::request(std::string method, json::value params,
                                           CallOptions opts) {
  if (method.empty()) throw std::invalid_argument("method must not be empty");
  auto e = engine_;
  co_return co_await e->call(std::move(method), std::move(params), opts.timeout);
}

awaitable<Notification> AsyncCodex::next_event(std::optional<std::chrono::milliseconds> timeout) {
  auto e = engine_;
  co_return co_await e->next_event(timeout);
}

std::size_t AsyncCodex::dropped_events() const noexcept {
  return engine_->router().dropped_events;
}

}  // namespace codex
