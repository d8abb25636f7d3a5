// fake_app_server: a scripted stand-in for `codex app-server` (JSON-RPC over stdio, one JSON
// object per line). It exists for fault injection and speed: it can answer out of order, die
// mid-stream, write malformed or huge lines, send server->client requests with chosen params,
// flood events for benchmarks, and never answer a request. See README.md next to this file for
// the script language.
//
// Single-threaded and synchronous: blocking reads from stdin, buffered writes to stdout that are
// flushed before every blocking read, every sleep and every exit.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace fake {
namespace {

namespace json = boost::json;

constexpr std::string_view kCodexVersion = "0.169.0";
constexpr std::size_t kOutputBufferBytes = std::size_t{1} << 20;
/// A Linux pipe's default capacity: what one write can hand over without waiting for the reader.
constexpr std::size_t kPipeBytes = std::size_t{64} << 10;
constexpr std::size_t kReadChunkBytes = std::size_t{256} << 10;
constexpr std::int64_t kContextWindow = 258400;

// ---------------------------------------------------------------------------------------------
// Small helpers

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t now_s() {
  return now_ms() / 1000;
}

std::string to_text(std::int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;
  return std::string(buf, end);
}

std::string quoted(std::string_view s) {
  return json::serialize(json::string(s));
}

// Cuts `s` to at most `max_bytes` without splitting a UTF-8 sequence.
void truncate_utf8(std::string& s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return;
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80)
    --cut;
  s.resize(cut);
}

// Thrown to stop the server with an exit code (the `exit` action, or a fatal script error).
struct ExitNow {
  int code;
};

// Thrown when stdin reaches end-of-file while the server is waiting for a reply.
struct StdinClosed {};

[[noreturn]] void script_error(const std::string& what) {
  std::cerr << "fake_app_server: script error: " << what << '\n';
  throw ExitNow{2};
}

const json::object* get_object(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_object() : nullptr;
}

const json::array* get_array(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v ? v->if_array() : nullptr;
}

std::optional<std::string> get_string(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v && v->is_string()) return std::string(v->get_string());
  return std::nullopt;
}

std::optional<std::int64_t> as_int(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_double()) return static_cast<std::int64_t>(v.get_double());
  return std::nullopt;
}

std::int64_t int_or(const json::object& o, std::string_view key, std::int64_t fallback) {
  const json::value* v = o.if_contains(key);
  if (!v) return fallback;
  return as_int(*v).value_or(fallback);
}

bool bool_or(const json::object& o, std::string_view key, bool fallback) {
  const json::value* v = o.if_contains(key);
  return v && v->is_bool() ? v->get_bool() : fallback;
}

std::string string_or(const json::object& o, std::string_view key, std::string_view fallback) {
  return get_string(o, key).value_or(std::string(fallback));
}

// ---------------------------------------------------------------------------------------------
// Output: a large buffer over fd 1. After `close()` or a write error (EPIPE) output is dropped.

class Output {
 public:
  explicit Output(int fd) : fd_(fd) { buf_.reserve(kOutputBufferBytes); }

  void write(std::string_view s) {
    if (dead_) return;
    if (buf_.size() + s.size() > kOutputBufferBytes) {
      flush();
      if (s.size() >= kOutputBufferBytes) {
        write_all(s.data(), s.size());
        return;
      }
    }
    buf_.append(s);
  }

  void line(std::string_view s) {
    write(s);
    write("\n");
  }

  void flush() {
    if (!buf_.empty() && !dead_) write_all(buf_.data(), buf_.size());
    buf_.clear();
  }

  std::size_t buffered() const noexcept { return buf_.size(); }

  void close() {
    flush();
    if (!dead_) ::close(fd_);
    dead_ = true;
  }

 private:
  void write_all(const char* p, std::size_t n) {
    while (n > 0 && !dead_) {
      ssize_t w = ::write(fd_, p, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        dead_ = true;  // EPIPE and friends: the reader is gone; keep serving stdin anyway
        return;
      }
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }

  int fd_;
  std::string buf_;
  bool dead_ = false;
};

// ---------------------------------------------------------------------------------------------
// Input: newline-framed lines from fd 0, with an optional timeout.

class Input {
 public:
  enum class Status { line, eof, timeout };

  bool has_buffered_line() const { return buf_.find('\n', scan_) != std::string::npos; }
  bool at_eof() const { return eof_ && start_ >= buf_.size(); }

  // timeout_ms < 0 waits forever.
  Status read_line(std::string& line, std::int64_t timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      std::size_t nl = buf_.find('\n', scan_);
      if (nl != std::string::npos) {
        line.assign(buf_, start_, nl - start_);
        start_ = scan_ = nl + 1;
        compact();
        return Status::line;
      }
      scan_ = buf_.size();
      if (eof_) {
        if (start_ < buf_.size()) {  // a last line without its newline
          line.assign(buf_, start_, std::string::npos);
          start_ = scan_ = buf_.size();
          return Status::line;
        }
        return Status::eof;
      }
      if (timeout_ms >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        if (left <= 0) return Status::timeout;
        pollfd pfd{0, POLLIN, 0};
        int r = ::poll(&pfd, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) return Status::timeout;
      }
      fill();
    }
  }

 private:
  void fill() {
    const std::size_t old = buf_.size();
    buf_.resize(old + kReadChunkBytes);
    ssize_t n;
    do {
      n = ::read(0, buf_.data() + old, kReadChunkBytes);
    } while (n < 0 && errno == EINTR);
    buf_.resize(old + (n > 0 ? static_cast<std::size_t>(n) : 0));
    if (n <= 0) eof_ = true;
  }

  void compact() {
    if (start_ == buf_.size()) {
      buf_.clear();
      start_ = scan_ = 0;
    } else if (start_ > (std::size_t{1} << 20) && start_ > buf_.size() / 2) {
      buf_.erase(0, start_);
      scan_ -= start_;
      start_ = 0;
    }
  }

  std::string buf_;
  std::size_t start_ = 0;  // first unread byte
  std::size_t scan_ = 0;   // bytes before this have been searched for '\n'
  bool eof_ = false;
};

// ---------------------------------------------------------------------------------------------
// Script validation

const std::set<std::string, std::less<>> kVerbs = {
    "respond",      "error",           "notify", "request",     "await_reply",
    "raw",          "raw_hex",         "stderr", "sleep_ms",    "exit",
    "close_stdout", "no_reply",        "repeat", "stream_turn", "turn",
    "default",      "huge_line_bytes", "set",    "flush"};

void validate_actions(const json::value& v, const std::string& where);

void validate_action(const json::value& v, const std::string& where) {
  const json::object* a = v.if_object();
  if (!a) script_error(where + ": an action must be a JSON object, got " + json::serialize(v));
  int verbs = 0;
  for (const auto& kv : *a)
    if (kVerbs.count(std::string_view(kv.key()))) ++verbs;
  if (verbs != 1)
    script_error(
        where + ": an action needs exactly one verb (respond, notify, ...): " + json::serialize(v));
  if (a->contains("repeat")) {
    const json::value* sub = a->if_contains("actions");
    if (!sub) script_error(where + ": repeat needs \"actions\"");
    validate_actions(*sub, where + ".repeat");
  }
  if (const json::value* d = a->if_contains("default")) {
    bool ok =
        d->is_bool() ||
        (d->is_string() && (d->get_string() == "response" || d->get_string() == "notifications"));
    if (!ok) script_error(where + ": default must be true, \"response\" or \"notifications\"");
  }
}

void validate_actions(const json::value& v, const std::string& where) {
  const json::array* arr = v.if_array();
  if (!arr) script_error(where + ": expected an array of actions");
  for (std::size_t i = 0; i < arr->size(); ++i)
    validate_action((*arr)[i], where + "[" + std::to_string(i) + "]");
}

// `on.<method>` is either one reaction (an array of actions) or an array of reactions.
bool is_reaction_list(const json::array& arr) {
  return !arr.empty() && arr.front().is_array();
}

void validate_script(const json::object& script) {
  static const std::set<std::string, std::less<>> kTop = {
      "initialize", "on", "unknown", "on_start", "on_eof", "echo", "strict_init"};
  for (const auto& kv : script)
    if (!kTop.count(std::string_view(kv.key())))
      script_error("unknown top-level key \"" + std::string(kv.key()) + "\"");
  if (const json::value* v = script.if_contains("on")) {
    if (!v->is_object()) script_error("\"on\" must be an object");
    for (const auto& kv : v->get_object()) {
      std::string where = "on." + std::string(kv.key());
      const json::array* arr = kv.value().if_array();
      if (!arr) script_error(where + ": expected an array");
      if (is_reaction_list(*arr)) {
        for (std::size_t i = 0; i < arr->size(); ++i)
          validate_actions((*arr)[i], where + "[" + std::to_string(i) + "]");
      } else {
        validate_actions(*arr, where);
      }
    }
  }
  for (std::string_view key : {"on_start", "on_eof"})
    if (const json::value* v = script.if_contains(key)) validate_actions(*v, std::string(key));
  if (const json::value* v = script.if_contains("unknown")) {
    bool ok = v->is_string() && (v->get_string() == "error" || v->get_string() == "empty" ||
                                 v->get_string() == "ignore");
    if (!ok) script_error("\"unknown\" must be \"error\", \"empty\" or \"ignore\"");
  }
  if (const json::value* v = script.if_contains("initialize"); v && !v->is_object())
    script_error("\"initialize\" must be an object");
}

// ---------------------------------------------------------------------------------------------
// Server state and the action interpreter

struct ThreadInfo {
  std::string id;
  std::string cwd;
  std::string model = "mock-model";
  std::string preview;
  std::optional<std::string> name;
  std::optional<std::string> forked_from;
  bool ephemeral = false;
  bool archived = false;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

// Per-handled-message context. `vars` backs the $placeholders.
struct Ctx {
  bool has_id = false;  // a request (answerable) rather than a notification / on_start
  json::value id;
  std::string method;
  json::object vars;
  bool answered = false;
};

enum class Part { both, response, notifications };

class Server {
 public:
  Server(json::object script, int log_fd) : script_(std::move(script)), log_fd_(log_fd) {
    on_ = get_object(script_, "on");
    unknown_mode_ = string_or(script_, "unknown", "error");
    echo_ = bool_or(script_, "echo", false);
    strict_init_ = bool_or(script_, "strict_init", true);
    char cwd[4096];
    default_cwd_ = ::getcwd(cwd, sizeof cwd) ? cwd : "/";
    ::signal(SIGPIPE, SIG_IGN);
  }

  int run() {
    try {
      try {
        if (const json::array* a = get_array(script_, "on_start")) {
          Ctx ctx = make_ctx(false, json::value(), "", json::value());
          run_actions(*a, ctx);
        }
        for (;;) {
          if (!pending_.empty()) {
            json::object msg = std::move(pending_.front());
            pending_.pop_front();
            dispatch(std::move(msg));
            continue;
          }
          if (!in_.has_buffered_line()) out_.flush();
          std::string line;
          if (in_.read_line(line, -1) != Input::Status::line) break;
          log_line(line);
          if (auto msg = parse(line)) dispatch(std::move(*msg));
        }
      } catch (const StdinClosed&) {
      }
      if (const json::array* a = get_array(script_, "on_eof")) {
        Ctx ctx = make_ctx(false, json::value(), "", json::value());
        run_actions(*a, ctx);
      }
      out_.flush();
      return 0;
    } catch (const ExitNow& e) {
      out_.flush();
      return e.code;
    }
  }

 private:
  // ----- reading

  // Appends the raw line to $FAKE_APP_SERVER_LOG with one write(2) for ordinary lines, so a
  // test reading the log concurrently never sees half a line of a small message.
  void log_line(const std::string& line) {
    if (log_fd_ < 0) return;
    std::string rec;
    rec.reserve(line.size() + 1);
    rec.append(line).push_back('\n');
    const char* p = rec.data();
    std::size_t n = rec.size();
    while (n > 0) {
      ssize_t w = ::write(log_fd_, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return;
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }

  // Non-JSON, non-object JSON and messages of no known shape are ignored, like the real server.
  static std::optional<json::object> parse(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return std::nullopt;
    boost::system::error_code ec;
    json::value v = json::parse(line, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.get_object());
  }

  static bool is_reply(const json::object& msg) {
    return !msg.contains("method") && msg.contains("id") &&
           (msg.contains("result") || msg.contains("error"));
  }

  // Waits for the client's reply to a server request. Client requests and notifications that
  // arrive meanwhile are queued and handled afterwards, in order.
  json::value await_reply(const json::value& id, std::int64_t timeout_ms) {
    const std::string key = json::serialize(id);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (auto it = replies_.find(key); it != replies_.end()) {
        json::value reply(std::move(it->second));
        replies_.erase(it);
        return reply;
      }
      if (in_.at_eof()) throw StdinClosed{};
      out_.flush();
      std::int64_t left = -1;
      if (timeout_ms >= 0) {
        left = std::chrono::duration_cast<std::chrono::milliseconds>(
                   deadline - std::chrono::steady_clock::now())
                   .count();
        if (left < 0) left = 0;
      }
      std::string line;
      Input::Status st = in_.read_line(line, left);
      if (st == Input::Status::eof) throw StdinClosed{};
      if (st == Input::Status::timeout) return json::value();
      log_line(line);
      auto msg = parse(line);
      if (!msg) continue;
      if (is_reply(*msg)) {
        replies_[json::serialize(msg->at("id"))] = std::move(*msg);
      } else {
        pending_.push_back(std::move(*msg));
      }
    }
  }

  // ----- dispatch

  Ctx make_ctx(bool has_id, json::value id, std::string method, json::value params) {
    Ctx ctx;
    ctx.has_id = has_id;
    ctx.id = id;
    ctx.method = std::move(method);
    ctx.vars["id"] = std::move(id);
    ctx.vars["method"] = ctx.method;
    ctx.vars["n"] = 0;
    ctx.vars["params"] = std::move(params);
    ctx.vars["threadId"] = "";
    ctx.vars["turnId"] = "";
    ctx.vars["reply"] = last_reply_;
    ctx.vars["requestId"] = last_request_id_;
    return ctx;
  }

  void dispatch(json::object msg) {
    if (is_reply(msg)) {
      replies_[json::serialize(msg.at("id"))] = std::move(msg);
      return;
    }
    const json::value* m = msg.if_contains("method");
    if (!m || !m->is_string()) return;
    std::string method(m->get_string());
    const bool is_request = msg.contains("id");
    json::value id = is_request ? msg.at("id") : json::value();
    json::value params = msg.contains("params") ? msg.at("params") : json::value();

    Ctx ctx = make_ctx(is_request, std::move(id), method, std::move(params));

    if (is_request && strict_init_) {
      if (method == "initialize" && initialized_)
        return send_error(ctx, -32600, "Already initialized");
      if (method != "initialize" && !initialized_)
        return send_error(ctx, -32600, "Not initialized");
    }
    if (is_request && method == "initialize") {
      initialized_ = true;
      if (const json::object* p = ctx.vars.at("params").if_object())
        if (const json::value* ci = p->if_contains("clientInfo")) client_info_ = *ci;
    }

    const std::int64_t n = ++call_counts_[method];
    ctx.vars["n"] = n;
    assign_ids(ctx, n);

    const json::array* reaction = scripted_reaction(method, n);
    if (reaction) {
      run_actions(*reaction, ctx);
    } else if (!is_request) {
      return;  // unscripted client notifications (initialized, ...) are ignored
    } else if (echo_ && method != "initialize") {
      json::object r;
      r["echo"] = ctx.vars.at("params");
      send_result(ctx, std::move(r));
    } else if (!builtin(ctx, Part::both)) {
      unknown_method(ctx);
    }
    if (is_request && !ctx.answered) send_result(ctx, json::object());
  }

  const json::array* scripted_reaction(const std::string& method, std::int64_t n) const {
    if (!on_) return nullptr;
    const json::value* v = on_->if_contains(method);
    if (!v) return nullptr;
    const json::array& arr = v->get_array();
    if (!is_reaction_list(arr)) return &arr;
    std::size_t i = std::min<std::size_t>(static_cast<std::size_t>(n - 1), arr.size() - 1);
    return &arr[i].get_array();
  }

  void assign_ids(Ctx& ctx, std::int64_t n) {
    const json::object* p = ctx.vars.at("params").if_object();
    auto param = [&](std::string_view k) -> std::string {
      if (!p) return "";
      return get_string(*p, k).value_or("");
    };
    std::string thread_id, turn_id;
    if (ctx.method == "thread/start") {
      thread_id = "thr_" + to_text(n);
    } else if (ctx.method == "thread/fork") {
      thread_id = "thr_fork_" + to_text(n);
    } else {
      thread_id = param("threadId");
    }
    if (ctx.method == "turn/start") {
      turn_id = "turn_" + to_text(n);
    } else {
      turn_id = param("turnId");
      if (turn_id.empty()) turn_id = param("expectedTurnId");
      if (turn_id.empty()) {
        if (auto it = active_turns_.find(thread_id); it != active_turns_.end())
          turn_id = it->second;
      }
    }
    ctx.vars["threadId"] = thread_id;
    ctx.vars["turnId"] = turn_id;
  }

  std::string var_string(const Ctx& ctx, std::string_view name) const {
    const json::value* v = ctx.vars.if_contains(name);
    if (!v) return "";
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_null()) return "";
    return json::serialize(*v);
  }

  // ----- writing messages

  void write_value(const json::value& v) { out_.line(json::serialize(v)); }

  void send_result(Ctx& ctx, json::value result, const json::value* id_override = nullptr) {
    json::object msg;
    msg["id"] = id_override ? *id_override : ctx.id;
    msg["result"] = std::move(result);
    write_value(msg);
    ctx.answered = true;
    if (ctx.method == "turn/start" && !id_override) {
      std::string thread = var_string(ctx, "threadId");
      std::string turn = turn_id_of_result(msg.at("result"), var_string(ctx, "turnId"));
      if (!thread.empty() && !turn.empty()) active_turns_[thread] = turn;
    }
  }

  static std::string turn_id_of_result(const json::value& result, std::string fallback) {
    if (const json::object* r = result.if_object())
      if (const json::object* t = get_object(*r, "turn"))
        if (auto id = get_string(*t, "id")) return *id;
    return fallback;
  }

  void send_error_object(Ctx& ctx, json::value error, const json::value* id_override = nullptr) {
    json::object msg;
    msg["id"] = id_override ? *id_override : ctx.id;
    msg["error"] = std::move(error);
    write_value(msg);
    ctx.answered = true;
  }

  void send_error(Ctx& ctx, std::int64_t code, std::string_view message) {
    json::object e;
    e["code"] = code;
    e["message"] = message;
    send_error_object(ctx, std::move(e));
  }

  void notify(std::string_view method, json::value params, bool with_params = true) {
    json::object msg;
    msg["method"] = method;
    if (with_params) msg["params"] = params;
    msg["emittedAtMs"] = now_ms();
    write_value(msg);
    track_turns(method, params);
  }

  // Keeps the "active turn per thread" table that turn/interrupt, turn/steer and $turnId use.
  void track_turns(std::string_view method, const json::value& params) {
    const json::object* p = params.if_object();
    if (!p) return;
    auto thread = get_string(*p, "threadId");
    if (!thread) return;
    if (method == "turn/started") {
      if (const json::object* t = get_object(*p, "turn"))
        if (auto id = get_string(*t, "id")) active_turns_[*thread] = *id;
    } else if (method == "turn/completed") {
      active_turns_.erase(*thread);
    }
  }

  // ----- placeholders

  // Resolves `$name[.path...]` starting at s[i] == '$'. On success returns the value and sets
  // `end` to the index after the token.
  std::optional<json::value> resolve(const Ctx& ctx, std::string_view s, std::size_t i,
                                     std::size_t& end) const {
    auto is_name = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    };
    std::size_t j = i + 1;
    while (j < s.size() && is_name(s[j]))
      ++j;
    std::string_view name = s.substr(i + 1, j - i - 1);
    if (name.empty()) return std::nullopt;
    json::value cur;
    if (name == "nowMs") {
      cur = now_ms();
    } else if (name == "nowS") {
      cur = now_s();
    } else if (const json::value* v = ctx.vars.if_contains(name)) {
      cur = *v;
    } else {
      return std::nullopt;
    }
    // Follow `.key` / `.index` segments while they exist in the current value.
    while (j < s.size() && s[j] == '.') {
      std::size_t k = j + 1;
      while (k < s.size() && (is_name(s[k]) || s[k] == '/' || s[k] == '-'))
        ++k;
      std::string_view seg = s.substr(j + 1, k - j - 1);
      if (seg.empty()) break;
      const json::value* next = nullptr;
      if (const json::object* o = cur.if_object()) {
        next = o->if_contains(seg);
      } else if (const json::array* a = cur.if_array()) {
        std::size_t idx = 0;
        auto [p, ec] = std::from_chars(seg.data(), seg.data() + seg.size(), idx);
        if (ec == std::errc() && p == seg.data() + seg.size() && idx < a->size()) next = &(*a)[idx];
      }
      if (!next) break;
      json::value copy = *next;
      cur = std::move(copy);
      j = k;
    }
    end = j;
    return cur;
  }

  json::value expand_string(std::string_view s, const Ctx& ctx) const {
    if (s.find('$') == std::string_view::npos) return json::string(s);
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
      std::size_t d = s.find('$', i);
      if (d == std::string_view::npos) {
        out.append(s.substr(i));
        break;
      }
      out.append(s.substr(i, d - i));
      if (d + 1 < s.size() && s[d + 1] == '$') {
        out += '$';
        i = d + 2;
        continue;
      }
      std::size_t end = 0;
      auto v = resolve(ctx, s, d, end);
      if (!v) {
        out += '$';
        i = d + 1;
        continue;
      }
      if (d == 0 && end == s.size()) return std::move(*v);  // the whole string: keep the type
      if (v->is_string()) {
        out.append(v->get_string().data(), v->get_string().size());
      } else {
        out.append(json::serialize(*v));
      }
      i = end;
    }
    return json::string(out);
  }

  json::value expand(const json::value& v, const Ctx& ctx) const {
    switch (v.kind()) {
      case json::kind::string:
        return expand_string(v.get_string(), ctx);
      case json::kind::array: {
        json::array out;
        out.reserve(v.get_array().size());
        for (const auto& e : v.get_array())
          out.push_back(expand(e, ctx));
        return out;
      }
      case json::kind::object: {
        json::object out;
        for (const auto& kv : v.get_object())
          out[kv.key()] = expand(kv.value(), ctx);
        return out;
      }
      default:
        return v;
    }
  }

  // ----- actions

  void run_actions(const json::array& actions, Ctx& ctx) {
    for (const auto& a : actions)
      run_action(a.get_object(), ctx);
  }

  // The verb of a validated action: the one key of `a` that names an action.
  static std::string_view verb_of(const json::object& a) {
    for (const auto& kv : a)
      if (kVerbs.count(std::string_view(kv.key()))) return kv.key();
    return {};
  }

  void run_action(const json::object& a, Ctx& ctx) {
    const std::string_view verb = verb_of(a);
    const json::value& v = a.at(verb);
    auto id_override = [&]() -> std::optional<json::value> {
      if (const json::value* id = a.if_contains("id")) return expand(*id, ctx);
      return std::nullopt;
    };
    if (verb == "respond" || verb == "error") {
      if (!ctx.has_id && !a.contains("id"))
        return warn(std::string(verb) + " outside a request ignored");
      auto id = id_override();
      if (verb == "respond") {
        send_result(ctx, expand(v, ctx), id ? &*id : nullptr);
      } else {
        send_error_object(ctx, expand(v, ctx), id ? &*id : nullptr);
      }
    } else if (verb == "notify") {
      json::value method = expand(v, ctx);
      if (!method.is_string()) script_error("notify needs a method name");
      const json::value* params = a.if_contains("params");
      notify(method.get_string(), params ? expand(*params, ctx) : json::value(), params != nullptr);
    } else if (verb == "request") {
      server_request(a, v, ctx);
    } else if (verb == "await_reply") {
      json::value id = v.is_bool() ? ctx.vars.at("requestId") : expand(v, ctx);
      json::value reply = await_reply(id, int_or(a, "timeout_ms", -1));
      last_reply_ = reply;
      ctx.vars["reply"] = std::move(reply);
    } else if (verb == "raw" || verb == "raw_hex") {
      if (!v.is_string()) script_error(std::string(verb) + " needs a string");
      out_.line(verb == "raw" ? std::string(v.get_string()) : decode_hex(v.get_string()));
    } else if (verb == "huge_line_bytes") {
      huge_line(a, as_int(v).value_or(0), ctx);
    } else if (verb == "stderr") {
      json::value text = expand(v, ctx);
      std::string s = text.is_string() ? std::string(text.get_string()) : json::serialize(text);
      s += '\n';
      out_.flush();  // keep stdout and stderr roughly in program order
      [[maybe_unused]] ssize_t w = ::write(2, s.data(), s.size());
    } else if (verb == "sleep_ms") {
      out_.flush();
      std::this_thread::sleep_for(std::chrono::milliseconds(as_int(v).value_or(0)));
    } else if (verb == "exit") {
      throw ExitNow{static_cast<int>(as_int(v).value_or(0))};
    } else if (verb == "close_stdout") {
      out_.close();
    } else if (verb == "no_reply") {
      ctx.answered = true;
    } else if (verb == "flush") {
      out_.flush();
    } else if (verb == "repeat") {
      const std::int64_t times = as_int(v).value_or(0);
      const json::array& sub = a.at("actions").get_array();
      for (std::int64_t i = 0; i < times; ++i) {
        ctx.vars["i"] = i;
        run_actions(sub, ctx);
      }
    } else if (verb == "set") {
      if (!v.is_object()) script_error("set needs an object");
      for (const auto& kv : v.get_object())
        ctx.vars[kv.key()] = expand(kv.value(), ctx);
    } else if (verb == "default") {
      if (v.is_bool() && !v.get_bool()) return;
      Part part = Part::both;
      if (v.is_string()) part = v.get_string() == "response" ? Part::response : Part::notifications;
      if (!builtin(ctx, part) && part != Part::notifications) unknown_method(ctx);
    } else if (verb == "turn" || verb == "stream_turn") {
      json::value opts = expand(v, ctx);
      const json::object& o = opts.is_object() ? opts.get_object() : json::object();
      if (verb == "turn") {
        emit_turn(ctx, o);
      } else {
        stream_turn(ctx, o);
      }
    }
  }

  static void warn(const std::string& what) { std::cerr << "fake_app_server: " << what << '\n'; }

  void server_request(const json::object& a, const json::value& method_v, Ctx& ctx) {
    json::value method = expand(method_v, ctx);
    if (!method.is_string()) script_error("request needs a method name");
    json::value id;
    if (const json::value* v = a.if_contains("id")) {
      id = expand(*v, ctx);
      if (auto n = as_int(id)) next_server_request_id_ = std::max(next_server_request_id_, *n + 1);
    } else {
      id = next_server_request_id_++;
    }
    json::object msg;
    msg["id"] = id;
    msg["method"] = method;
    if (const json::value* p = a.if_contains("params")) msg["params"] = expand(*p, ctx);
    write_value(msg);
    last_request_id_ = id;
    ctx.vars["requestId"] = id;
  }

  static std::string decode_hex(std::string_view hex) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    std::string out;
    int hi = -1;
    for (char c : hex) {
      int v = nibble(c);
      if (v < 0) {
        if (c == ' ' || c == ':' || c == '\n' || c == '\t') continue;
        script_error("raw_hex: not a hex digit: " + std::string(1, c));
      }
      if (hi < 0) {
        hi = v;
      } else {
        out += static_cast<char>((hi << 4) | v);
        hi = -1;
      }
    }
    if (hi >= 0) script_error("raw_hex: odd number of hex digits");
    return out;
  }

  // One syntactically valid notification line of exactly `bytes` bytes (not counting "\n"), or
  // the shortest possible one when `bytes` is smaller than the fixed part. The filler is streamed
  // in chunks; nothing of that size is held in memory.
  void huge_line(const json::object& a, std::int64_t bytes, const Ctx& ctx) {
    json::value method =
        a.contains("method") ? expand(a.at("method"), ctx) : json::value("fake/huge");
    std::string field = string_or(a, "field", "data");
    json::value params = a.contains("params") ? expand(a.at("params"), ctx) : json::object();
    if (!method.is_string() || !params.is_object())
      script_error("huge_line_bytes: method must be a string and params an object");
    std::string head = "{\"method\":" + quoted(method.get_string()) + ",\"params\":";
    std::string p = json::serialize(params);
    p.pop_back();  // drop the closing brace; the huge field goes last
    if (!params.get_object().empty()) p += ',';
    head += p + quoted(field) + ":\"";
    std::string tail = "\"},\"emittedAtMs\":" + to_text(now_ms()) + "}";
    std::int64_t fill = bytes - static_cast<std::int64_t>(head.size() + tail.size());
    out_.write(head);
    static const std::string chunk(64 * 1024, 'x');
    while (fill > 0) {
      std::size_t n = std::min<std::size_t>(chunk.size(), static_cast<std::size_t>(fill));
      out_.write(std::string_view(chunk.data(), n));
      fill -= static_cast<std::int64_t>(n);
    }
    out_.line(tail);
  }

  // ----- realistic data shapes

  ThreadInfo& ensure_thread(const std::string& id) {
    auto it = threads_.find(id);
    if (it != threads_.end()) return it->second;
    ThreadInfo t;
    t.id = id;
    t.cwd = default_cwd_;
    t.created_at = t.updated_at = now_s();
    thread_order_.push_back(id);
    return threads_.emplace(id, std::move(t)).first->second;
  }

  std::string codex_home() const {
    if (const json::object* init = get_object(script_, "initialize"))
      if (auto h = get_string(*init, "codexHome")) return *h;
    if (const char* h = std::getenv("CODEX_HOME"); h && *h) return h;
    return "/tmp/fake-codex-home";
  }

  std::string client_name() const {
    if (const json::object* ci = client_info_.if_object())
      if (auto n = get_string(*ci, "name")) return *n;
    return "codex_cpp_sdk";
  }

  json::object thread_json(const ThreadInfo& t, std::string_view status) const {
    json::object o;
    o["id"] = t.id;
    o["sessionId"] = t.id;
    o["forkedFromId"] = t.forked_from ? json::value(*t.forked_from) : json::value();
    o["parentThreadId"] = nullptr;
    o["preview"] = t.preview;
    o["ephemeral"] = t.ephemeral;
    o["section"] = nullptr;
    o["sectionEnteredAt"] = nullptr;
    o["projectId"] = nullptr;
    o["historyMode"] = "paginated";
    o["modelProvider"] = "openai";
    o["model"] = t.model;
    o["reasoningEffort"] = nullptr;
    o["createdAt"] = t.created_at;
    o["updatedAt"] = t.updated_at;
    o["recencyAt"] = t.updated_at;
    o["status"] = json::object{{"type", status}};
    o["path"] = t.ephemeral ? json::value()
                            : json::value(codex_home() + "/sessions/rollout-" + t.id + ".jsonl");
    o["cwd"] = t.cwd;
    o["cliVersion"] = kCodexVersion;
    o["originator"] = client_name();
    o["source"] = "vscode";
    o["threadSource"] = nullptr;
    o["agentNickname"] = nullptr;
    o["agentRole"] = nullptr;
    o["gitInfo"] = nullptr;
    o["name"] = t.name ? json::value(*t.name) : json::value();
    o["turns"] = json::array();
    return o;
  }

  static json::object sandbox_policy(std::string_view mode) {
    if (mode == "danger-full-access") return {{"type", "dangerFullAccess"}};
    if (mode == "workspace-write")
      return {{"type", "workspaceWrite"},
              {"writableRoots", json::array()},
              {"networkAccess", false},
              {"excludeTmpdirEnvVar", false},
              {"excludeSlashTmp", false}};
    return {{"type", "readOnly"}, {"networkAccess", false}};
  }

  // The result shape shared by thread/start, thread/resume and thread/fork.
  json::object thread_session_result(const ThreadInfo& t, const json::object& params) const {
    json::object r;
    r["thread"] = thread_json(t, "idle");
    r["model"] = t.model;
    r["modelProvider"] = "openai";
    r["serviceTier"] = nullptr;
    r["cwd"] = t.cwd;
    const json::value* ap = params.if_contains("approvalPolicy");
    r["approvalPolicy"] = ap && !ap->is_null() ? *ap : json::value("on-request");
    r["approvalsReviewer"] = string_or(params, "approvalsReviewer", "user");
    r["sandbox"] = sandbox_policy(string_or(params, "sandbox", "read-only"));
    r["reasoningEffort"] = nullptr;
    r["instructionSources"] = json::array();
    r["disabledPluginIds"] = json::array();
    return r;
  }

  static json::object turn_json(std::string_view id, std::string_view status,
                                std::optional<std::int64_t> started_at) {
    json::object t;
    t["id"] = id;
    t["items"] = json::array();
    t["itemsView"] = "notLoaded";
    t["status"] = status;
    t["error"] = nullptr;
    t["startedAt"] = started_at ? json::value(*started_at) : json::value();
    t["completedAt"] = nullptr;
    t["durationMs"] = nullptr;
    return t;
  }

  static json::object usage_breakdown(std::int64_t input, std::int64_t output) {
    return {{"totalTokens", input + output}, {"inputTokens", input},
            {"cachedInputTokens", 0},        {"cacheWriteInputTokens", 0},
            {"outputTokens", output},        {"reasoningOutputTokens", 0}};
  }

  json::object token_usage_params(const std::string& thread, const std::string& turn,
                                  std::int64_t input, std::int64_t output) {
    auto& total = usage_[thread];
    total.first += input;
    total.second += output;
    return {{"threadId", thread},
            {"turnId", turn},
            {"tokenUsage",
             {{"total", usage_breakdown(total.first, total.second)},
              {"last", usage_breakdown(input, output)},
              {"modelContextWindow", kContextWindow}}}};
  }

  static json::object agent_message(std::string_view id, std::string_view text,
                                    const json::value& phase, std::int64_t started,
                                    std::optional<std::int64_t> completed) {
    return {{"type", "agentMessage"},
            {"id", id},
            {"text", text},
            {"phase", phase},
            {"moderation", nullptr},
            {"memoryCitation", nullptr},
            {"delivery", nullptr},
            {"questions", nullptr},
            {"startedAtMs", started},
            {"completedAtMs", completed ? json::value(*completed) : json::value()}};
  }

  void status_changed(const std::string& thread, json::object status) {
    notify("thread/status/changed",
           json::object{{"threadId", thread}, {"status", std::move(status)}});
  }

  static json::object active_status() {
    return {{"type", "active"}, {"activeFlags", json::array()}};
  }

  // The realistic notifications of one turn (§11.a), without the turn/start response.
  // Options: deltas (array of strings), phase, status (completed|failed|interrupted), error,
  // itemId, user_message, token_usage, complete (false: stop after the deltas), started.
  void emit_turn(Ctx& ctx, const json::object& opts) {
    const std::string thread = string_or(opts, "threadId", var_string(ctx, "threadId"));
    const std::string turn = string_or(opts, "turnId", var_string(ctx, "turnId"));
    const std::string item = string_or(opts, "itemId", "msg_" + turn);
    const std::string status = string_or(opts, "status", "completed");
    json::value phase = opts.contains("phase") ? opts.at("phase") : json::value("final_answer");
    json::array deltas;
    if (const json::array* d = get_array(opts, "deltas")) {
      deltas = *d;
    } else if (status == "completed") {
      deltas = {"Hello ", "world"};
    }
    const std::int64_t started_ms = now_ms();
    const std::int64_t started_s = started_ms / 1000;

    if (bool_or(opts, "started", true)) {
      status_changed(thread, active_status());
      notify("turn/started", json::object{{"threadId", thread},
                                          {"turn", turn_json(turn, "inProgress", started_s)}});
    }
    if (bool_or(opts, "user_message", true)) {
      json::value content = json::array();
      if (const json::object* p = ctx.vars.at("params").if_object())
        if (const json::value* in = p->if_contains("input"); in && in->is_array()) content = *in;
      const std::string uid = "um_" + turn;
      json::object um{{"type", "userMessage"},   {"id", uid},
                      {"clientId", nullptr},     {"content", content},
                      {"startedAtMs", now_ms()}, {"completedAtMs", nullptr}};
      notify("item/started", json::object{{"item", um},
                                          {"threadId", thread},
                                          {"turnId", turn},
                                          {"startedAtMs", um.at("startedAtMs")}});
      um["completedAtMs"] = now_ms();
      notify("item/completed", json::object{{"item", um},
                                            {"threadId", thread},
                                            {"turnId", turn},
                                            {"completedAtMs", um.at("completedAtMs")},
                                            {"contentTokenCount", nullptr}});
    }
    std::string text;
    const bool with_message = !deltas.empty();
    const std::int64_t msg_started = now_ms();
    if (with_message) {
      notify("item/started",
             json::object{{"item", agent_message(item, "", phase, msg_started, std::nullopt)},
                          {"threadId", thread},
                          {"turnId", turn},
                          {"startedAtMs", msg_started}});
      for (const auto& d : deltas) {
        std::string piece = d.is_string() ? std::string(d.get_string()) : json::serialize(d);
        text += piece;
        notify("item/agentMessage/delta",
               json::object{
                   {"threadId", thread}, {"turnId", turn}, {"itemId", item}, {"delta", piece}});
      }
    }
    if (!bool_or(opts, "complete", true)) return;  // left running: interrupt/steer tests

    json::array final_items;
    if (status == "completed" && with_message) {
      const std::int64_t done = now_ms();
      json::object msg = agent_message(item, text, phase, msg_started, done);
      notify("item/completed",
             json::object{{"item", msg},
                          {"threadId", thread},
                          {"turnId", turn},
                          {"completedAtMs", done},
                          {"contentTokenCount", static_cast<std::int64_t>(deltas.size())}});
      const bool summary =
          phase.is_null() || (phase.is_string() && phase.get_string() == "final_answer");
      if (summary) final_items.push_back(std::move(msg));
    }
    if (bool_or(opts, "token_usage", true) && status != "interrupted")
      notify("thread/tokenUsage/updated",
             token_usage_params(thread, turn, 140, static_cast<std::int64_t>(deltas.size()) + 10));

    json::value error;
    if (status == "failed") {
      error = opts.contains("error")
                  ? opts.at("error")
                  : json::value(json::object{
                        {"message",
                         "We\xE2\x80\x99re currently experiencing high demand, which may cause "
                         "temporary errors."},
                        {"codexErrorInfo", "internalServerError"},
                        {"additionalDetails", nullptr},
                        {"misalignment", nullptr}});
      notify("error",
             json::object{
                 {"error", error}, {"willRetry", false}, {"threadId", thread}, {"turnId", turn}});
      status_changed(thread, {{"type", "systemError"}});
    } else {
      status_changed(thread, {{"type", "idle"}});
    }
    complete_turn(thread, turn, status, std::move(error), std::move(final_items), started_ms);
  }

  void complete_turn(const std::string& thread, const std::string& turn, std::string_view status,
                     json::value error, json::array items, std::int64_t started_ms) {
    const std::int64_t done = now_ms();
    json::object t = turn_json(turn, status, started_ms / 1000);
    t["itemsView"] = items.empty() ? "notLoaded" : "summary";
    t["items"] = std::move(items);
    t["error"] = std::move(error);
    t["completedAt"] = done / 1000;
    t["durationMs"] = done - started_ms;
    notify("turn/completed", json::object{{"threadId", thread}, {"turn", std::move(t)}});
  }

  // ----- stream_turn: a realistic turn at full speed, written without building JSON trees

  void stream_turn(Ctx& ctx, const json::object& opts) {
    const std::int64_t deltas = int_or(opts, "deltas", 2);
    const std::string text = string_or(opts, "text", "x");
    const std::int64_t turns = std::max<std::int64_t>(1, int_or(opts, "turns", 1));
    const std::int64_t delta_bytes = int_or(opts, "delta_bytes", 0);
    const std::int64_t completed_max = int_or(opts, "completed_text_max_bytes", 1024);
    const std::string base_thread = var_string(ctx, "threadId");

    struct Lane {
      std::string thread, turn, item, delta_head;
      std::int64_t started_ms = 0;
    };
    std::vector<Lane> lanes(static_cast<std::size_t>(turns));
    const json::array* turn_ids = get_array(opts, "turn_ids");
    const json::array* thread_ids = get_array(opts, "thread_ids");
    for (std::size_t k = 0; k < lanes.size(); ++k) {
      Lane& l = lanes[k];
      if (turn_ids && k < turn_ids->size() && (*turn_ids)[k].is_string()) {
        l.turn = std::string((*turn_ids)[k].get_string());
      } else {
        l.turn = turns == 1 ? var_string(ctx, "turnId")
                            : "turn-" + to_text(static_cast<std::int64_t>(k + 1));
      }
      if (thread_ids && k < thread_ids->size() && (*thread_ids)[k].is_string()) {
        l.thread = std::string((*thread_ids)[k].get_string());
      } else {
        l.thread = base_thread;
      }
      l.item = "msg_" + l.turn;
    }

    std::string delta = text;
    if (delta_bytes > 0) {
      delta.clear();
      if (text.empty()) script_error("stream_turn: text must not be empty with delta_bytes");
      while (static_cast<std::int64_t>(delta.size()) < delta_bytes)
        delta += text;
      truncate_utf8(delta, static_cast<std::size_t>(delta_bytes));
    }
    std::string completed_text;
    const std::size_t want =
        completed_max < 0 ? std::string::npos : static_cast<std::size_t>(completed_max);
    for (std::int64_t i = 0; i < deltas && completed_text.size() < want; ++i)
      completed_text += delta;
    if (completed_max >= 0) truncate_utf8(completed_text, want);
    const std::string delta_json = quoted(delta);

    if (ctx.has_id && !ctx.answered && bool_or(opts, "respond", true))
      send_result(
          ctx, json::object{{"turn", turn_json(lanes.front().turn, "inProgress", std::nullopt)}});

    // The opening and closing messages of K turns are built one by one (slower than the deltas):
    // hand them over a pipe-full at a time, so the reader starts on them while the rest is built
    // instead of waiting for the whole 1 MiB buffer.
    const auto pipe_full = [this] {
      if (out_.buffered() >= kPipeBytes) out_.flush();
    };
    const json::value phase("final_answer");
    for (Lane& l : lanes) {
      l.started_ms = now_ms();
      notify("turn/started",
             json::object{{"threadId", l.thread},
                          {"turn", turn_json(l.turn, "inProgress", l.started_ms / 1000)}});
      notify("item/started",
             json::object{{"item", agent_message(l.item, "", phase, l.started_ms, std::nullopt)},
                          {"threadId", l.thread},
                          {"turnId", l.turn},
                          {"startedAtMs", l.started_ms}});
      pipe_full();
      l.delta_head =
          "{\"method\":\"item/agentMessage/delta\",\"params\":{\"threadId\":" + quoted(l.thread) +
          ",\"turnId\":" + quoted(l.turn) + ",\"itemId\":" + quoted(l.item) +
          ",\"delta\":" + delta_json + "},\"emittedAtMs\":";
    }
    for (std::int64_t i = 0; i < deltas; ++i) {
      for (const Lane& l : lanes) {
        out_.write(l.delta_head);
        out_.write(to_text(now_ms()));
        out_.write("}\n");
      }
    }
    for (const Lane& l : lanes) {
      const std::int64_t done = now_ms();
      json::object msg = agent_message(l.item, completed_text, phase, l.started_ms, done);
      notify("item/completed", json::object{{"item", msg},
                                            {"threadId", l.thread},
                                            {"turnId", l.turn},
                                            {"completedAtMs", done},
                                            {"contentTokenCount", deltas}});
      notify("thread/tokenUsage/updated", token_usage_params(l.thread, l.turn, 140, deltas));
      json::array items;
      items.push_back(std::move(msg));
      complete_turn(l.thread, l.turn, "completed", json::value(), std::move(items), l.started_ms);
      pipe_full();
    }
    out_.flush();
  }

  // ----- built-in default reactions

  void unknown_method(Ctx& ctx) {
    if (unknown_mode_ == "ignore") {
      ctx.answered = true;
      return;
    }
    if (unknown_mode_ == "empty") return send_result(ctx, json::object());
    std::string msg = "Invalid request: unknown variant `" + ctx.method + "`, expected one of ";
    bool first = true;
    for (std::string_view m : builtin_methods()) {
      msg += (first ? "`" : ", `") + std::string(m) + "`";
      first = false;
    }
    send_error(ctx, -32600, msg);
  }

  static const std::vector<std::string_view>& builtin_methods() {
    static const std::vector<std::string_view> kMethods = {
        "initialize",          "thread/start",         "thread/resume",        "thread/fork",
        "thread/read",         "thread/list",          "thread/loaded/list",   "thread/archive",
        "thread/unarchive",    "thread/name/set",      "thread/compact/start", "thread/unsubscribe",
        "thread/turns/list",   "thread/items/list",    "thread/delete",        "turn/start",
        "turn/steer",          "turn/interrupt",       "model/list",           "account/read",
        "account/login/start", "account/login/cancel", "account/logout"};
    return kMethods;
  }

  // Runs the built-in reaction (or part of it). Returns false for methods it does not know.
  bool builtin(Ctx& ctx, Part part) {
    const bool resp = part != Part::notifications;
    const bool notes = part != Part::response;
    const std::string& m = ctx.method;
    const json::object no_params;
    const json::object& params =
        ctx.vars.at("params").is_object() ? ctx.vars.at("params").get_object() : no_params;
    const std::string thread_id = var_string(ctx, "threadId");

    if (m == "initialize") {
      if (resp) {
        json::object r;
        std::string version = "0.0.0";
        if (const json::object* ci = client_info_.if_object())
          version = string_or(*ci, "version", version);
        r["userAgent"] = client_name() + "/" + std::string(kCodexVersion) +
                         " (Debian 12.0.0; x86_64) fake (" + client_name() + "; " + version + ")";
        r["codexHome"] = codex_home();
        r["platformFamily"] = "unix";
        r["platformOs"] = "linux";
        if (const json::object* init = get_object(script_, "initialize"))
          for (const auto& kv : *init)
            r[kv.key()] = expand(kv.value(), ctx);
        send_result(ctx, std::move(r));
      }
      if (notes)
        notify("remoteControl/status/changed",
               json::object{{"status", "disabled"},
                            {"serverName", "fake"},
                            {"installationId", "00000000-0000-7000-8000-000000000000"},
                            {"environmentId", nullptr}});
      return true;
    }
    if (m == "thread/start" || m == "thread/fork" || m == "thread/resume") {
      bool fresh = threads_.find(thread_id) == threads_.end();
      ThreadInfo& t = ensure_thread(thread_id);
      if (fresh || m != "thread/resume") {
        t.cwd = string_or(params, "cwd", t.cwd);
        t.model = string_or(params, "model", t.model);
        if (const json::value* e = params.if_contains("ephemeral"); e && e->is_bool())
          t.ephemeral = e->get_bool();
      }
      if (m == "thread/fork" && fresh) {
        t.forked_from = get_string(params, "threadId");
        if (t.forked_from) {
          if (auto it = threads_.find(*t.forked_from); it != threads_.end()) {
            t.name = it->second.name;
            t.preview = it->second.preview;
          }
        }
      }
      if (resp) send_result(ctx, thread_session_result(t, params));
      if (notes && m != "thread/resume")
        notify("thread/started", json::object{{"thread", thread_json(t, "idle")}});
      return true;
    }
    if (m == "thread/read" || m == "thread/unarchive") {
      ThreadInfo& t = ensure_thread(thread_id);
      if (m == "thread/unarchive") t.archived = false;
      if (resp) send_result(ctx, json::object{{"thread", thread_json(t, "idle")}});
      if (notes && m == "thread/unarchive")
        notify("thread/unarchived", json::object{{"threadId", thread_id}});
      return true;
    }
    if (m == "thread/list" || m == "thread/loaded/list") {
      if (resp) {
        const bool archived = bool_or(params, "archived", false);
        json::array data;
        for (auto it = thread_order_.rbegin(); it != thread_order_.rend(); ++it) {
          const ThreadInfo& t = threads_.at(*it);
          if (m == "thread/loaded/list") {
            if (!t.archived) data.push_back(json::value(t.id));
          } else if (!t.ephemeral && t.archived == archived) {
            data.push_back(thread_json(t, "idle"));
          }
        }
        json::object r{{"data", std::move(data)}, {"nextCursor", nullptr}};
        if (m == "thread/list") r["backwardsCursor"] = nullptr;
        send_result(ctx, std::move(r));
      }
      return true;
    }
    if (m == "thread/archive" || m == "thread/delete") {
      ensure_thread(thread_id).archived = true;
      if (resp) send_result(ctx, json::object());
      if (notes && m == "thread/archive") {
        status_changed(thread_id, {{"type", "notLoaded"}});
        notify("thread/archived", json::object{{"threadId", thread_id}});
      }
      return true;
    }
    if (m == "thread/name/set") {
      std::string name = string_or(params, "name", "");
      ensure_thread(thread_id).name = name;
      if (resp) send_result(ctx, json::object());
      if (notes)
        notify("thread/name/updated", json::object{{"threadId", thread_id}, {"threadName", name}});
      return true;
    }
    if (m == "thread/unsubscribe") {
      if (resp) send_result(ctx, json::object{{"status", "unsubscribed"}});
      return true;
    }
    if (m == "thread/turns/list" || m == "thread/items/list") {
      if (resp)
        send_result(ctx, json::object{{"data", json::array()},
                                      {"nextCursor", nullptr},
                                      {"backwardsCursor", nullptr}});
      return true;
    }
    if (m == "thread/compact/start") {
      if (resp) send_result(ctx, json::object());
      if (notes) {
        const std::string turn = "turn_compact_" + var_string(ctx, "n");
        const std::int64_t started = now_ms();
        status_changed(thread_id, active_status());
        notify("turn/started",
               json::object{{"threadId", thread_id},
                            {"turn", turn_json(turn, "inProgress", started / 1000)}});
        json::object item{{"type", "contextCompaction"}, {"id", "cc_" + turn}};
        notify("item/started", json::object{{"item", item},
                                            {"threadId", thread_id},
                                            {"turnId", turn},
                                            {"startedAtMs", now_ms()}});
        notify("item/completed", json::object{{"item", item},
                                              {"threadId", thread_id},
                                              {"turnId", turn},
                                              {"completedAtMs", now_ms()},
                                              {"contentTokenCount", nullptr}});
        status_changed(thread_id, {{"type", "idle"}});
        complete_turn(thread_id, turn, "completed", json::value(), json::array(), started);
      }
      return true;
    }
    if (m == "turn/start") {
      if (resp) {
        ThreadInfo& t = ensure_thread(thread_id);
        if (t.preview.empty())
          if (const json::array* in = get_array(params, "input"))
            for (const auto& item : *in)
              if (const json::object* o = item.if_object())
                if (auto text = get_string(*o, "text"); text && t.preview.empty())
                  t.preview = *text;
        t.updated_at = now_s();
        send_result(ctx, json::object{{"turn", turn_json(var_string(ctx, "turnId"), "inProgress",
                                                         std::nullopt)}});
      }
      if (notes) emit_turn(ctx, json::object());
      return true;
    }
    if (m == "turn/steer" || m == "turn/interrupt") {
      auto it = active_turns_.find(thread_id);
      const bool active = it != active_turns_.end();
      const std::string turn = active ? it->second : "";
      if (resp) {
        if (!active) {
          send_error(ctx, -32600,
                     m == "turn/steer" ? "no active turn to steer" : "no active turn to interrupt");
        } else if (m == "turn/steer") {
          send_result(ctx, json::object{{"turnId", turn}});
        } else {
          send_result(ctx, json::object());
        }
      }
      if (notes && active && m == "turn/interrupt") {
        status_changed(thread_id, {{"type", "idle"}});
        complete_turn(thread_id, turn, "interrupted", json::value(), json::array(), now_ms());
      }
      return true;
    }
    if (m == "model/list") {
      if (resp) send_result(ctx, model_list(params));
      return true;
    }
    if (m == "account/read") {
      if (resp)
        send_result(ctx, json::object{{"account", nullptr},
                                      {"userId", nullptr},
                                      {"requiresOpenaiAuth", false},
                                      {"workspaceRouting", nullptr}});
      return true;
    }
    if (m == "account/login/start") {
      const std::string type = string_or(params, "type", "apiKey");
      if (type == "apiKey") {
        if (resp) send_result(ctx, json::object{{"type", "apiKey"}});
        if (notes) {
          notify("account/login/completed", json::object{{"loginId", nullptr},
                                                         {"success", true},
                                                         {"error", nullptr},
                                                         {"onboardingEntrypoint", nullptr}});
          notify("account/updated", json::object{{"authMode", "apikey"}, {"planType", nullptr}});
        }
      } else if (resp) {
        const std::string login = "login_" + var_string(ctx, "n");
        pending_logins_.insert(login);
        send_result(ctx, json::object{{"type", type},
                                      {"loginId", login},
                                      {"authUrl", "https://auth.example.invalid/oauth/authorize"}});
      }
      return true;
    }
    if (m == "account/login/cancel") {
      const std::string login = string_or(params, "loginId", "");
      const bool known = pending_logins_.erase(login) > 0;
      if (resp) send_result(ctx, json::object{{"status", known ? "canceled" : "notFound"}});
      if (notes && known)
        notify("account/login/completed",
               json::object{{"loginId", login},
                            {"success", false},
                            {"error", "Login server error: Login was not completed"},
                            {"onboardingEntrypoint", nullptr}});
      return true;
    }
    if (m == "account/logout") {
      if (resp) send_result(ctx, json::object());
      if (notes)
        notify("account/updated", json::object{{"authMode", nullptr}, {"planType", nullptr}});
      return true;
    }
    return false;
  }

  static json::object model_json(std::string_view id, std::string_view display, bool is_default) {
    json::array efforts;
    for (std::string_view e : {"low", "medium", "high"})
      efforts.push_back(
          json::object{{"reasoningEffort", e}, {"description", std::string(e) + " effort"}});
    return {{"id", id},
            {"model", id},
            {"upgrade", nullptr},
            {"upgradeInfo", nullptr},
            {"availabilityNux", nullptr},
            {"displayName", display},
            {"description", "A fake model served by fake_app_server."},
            {"hidden", false},
            {"supportedReasoningEfforts", std::move(efforts)},
            {"defaultReasoningEffort", "medium"},
            {"inputModalities", json::array{"text", "image"}},
            {"supportsPersonality", false},
            {"additionalSpeedTiers", json::array()},
            {"serviceTiers", json::array()},
            {"isDefault", is_default}};
  }

  static json::object model_list(const json::object& params) {
    std::vector<json::object> all = {model_json("mock-model", "Mock Model", true),
                                     model_json("mock-model-mini", "Mock Model Mini", false)};
    std::size_t start = 0;
    if (auto c = get_string(params, "cursor")) start = std::strtoull(c->c_str(), nullptr, 10);
    std::size_t limit =
        static_cast<std::size_t>(std::max<std::int64_t>(0, int_or(params, "limit", 0)));
    json::array data;
    std::size_t i = start;
    for (; i < all.size() && (limit == 0 || data.size() < limit); ++i)
      data.push_back(all[i]);
    return {{"data", std::move(data)},
            {"nextCursor",
             i < all.size() ? json::value(to_text(static_cast<std::int64_t>(i))) : json::value()}};
  }

  // ----- state

  json::object script_;
  const json::object* on_ = nullptr;
  std::string unknown_mode_;
  bool echo_ = false;
  bool strict_init_ = true;
  bool initialized_ = false;
  json::value client_info_;
  std::string default_cwd_;
  int log_fd_;

  Output out_{1};
  Input in_;
  std::deque<json::object> pending_;
  std::map<std::string, json::object> replies_;  // keyed by the serialized id
  json::value last_reply_;
  json::value last_request_id_;
  std::int64_t next_server_request_id_ = 0;
  std::map<std::string, std::int64_t, std::less<>> call_counts_;

  std::map<std::string, ThreadInfo> threads_;
  std::vector<std::string> thread_order_;
  std::map<std::string, std::string> active_turns_;  // threadId -> turnId
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> usage_;
  std::set<std::string> pending_logins_;
};

// ---------------------------------------------------------------------------------------------
// Command line

constexpr std::string_view kUsage =
    "usage: fake_app_server [SCRIPT.json] [--script PATH] [--script-json JSON]\n"
    "       (also accepts and ignores codex-style arguments: app-server, --listen X,\n"
    "        -c/--config k=v; env FAKE_APP_SERVER_SCRIPT / FAKE_APP_SERVER_SCRIPT_JSON;\n"
    "        env FAKE_APP_SERVER_LOG=FILE appends every received line to FILE)\n";

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int main_impl(int argc, char** argv) {
  std::string script_path;
  std::string script_text;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view flag) -> std::optional<std::string> {
      if (a == flag && i + 1 < argc) return std::string(argv[++i]);
      if (a.size() > flag.size() && a.substr(0, flag.size()) == flag && a[flag.size()] == '=')
        return std::string(a.substr(flag.size() + 1));
      return std::nullopt;
    };
    if (a == "--version" || a == "-V") {
      std::cout << "codex-cli " << kCodexVersion << '\n';
      return 0;
    }
    if (a == "--help" || a == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (auto v = value("--script")) {
      script_path = *v;
    } else if (auto v2 = value("--script-json")) {
      script_text = *v2;
    } else if (value("--config") || value("-c") || value("--listen")) {
      // codex options the SDK may pass; irrelevant here
    } else if (a == "app-server" || (!a.empty() && a[0] == '-')) {
      // ignored
    } else if (script_path.empty()) {
      script_path = std::string(a);
    }
  }
  if (script_path.empty() && script_text.empty()) {
    if (const char* p = std::getenv("FAKE_APP_SERVER_SCRIPT"); p && *p) script_path = p;
    if (const char* j = std::getenv("FAKE_APP_SERVER_SCRIPT_JSON"); j && *j) script_text = j;
  }
  if (!script_path.empty()) {
    auto text = read_file(script_path);
    if (!text) {
      std::cerr << "fake_app_server: cannot read script " << script_path << '\n';
      return 2;
    }
    script_text = *text;
  }

  json::object script;
  if (!script_text.empty()) {
    boost::system::error_code ec;
    json::value v = json::parse(script_text, ec);
    if (ec || !v.is_object()) {
      std::cerr << "fake_app_server: the script is not a JSON object"
                << (ec ? ": " + ec.message() : std::string()) << '\n';
      return 2;
    }
    script = std::move(v.get_object());
  }

  int log_fd = -1;
  if (const char* log = std::getenv("FAKE_APP_SERVER_LOG"); log && *log) {
    log_fd = ::open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      std::cerr << "fake_app_server: cannot open log " << log << ": " << std::strerror(errno)
                << '\n';
      return 2;
    }
  }

  try {
    validate_script(script);
  } catch (const ExitNow& e) {
    return e.code;
  }
  Server server(std::move(script), log_fd);
  return server.run();
}

}  // namespace
}  // namespace fake

int main(int argc, char** argv) {
  try {
    return fake::main_impl(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "fake_app_server: " << e.what() << '\n';
    return 2;
  }
}
