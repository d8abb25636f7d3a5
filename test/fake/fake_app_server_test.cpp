// Tests of the scripted fake app-server itself: each test spawns the executable, talks to it over
// pipes and checks the lines it writes. Every read has a deadline, so a broken fake fails a test
// instead of hanging it.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#ifndef FAKE_APP_SERVER_PATH
#error "FAKE_APP_SERVER_PATH must name the fake_app_server executable"
#endif

namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kTimeout = 10s;

std::string temp_path(std::string_view stem) {
  const char* dir = std::getenv("TMPDIR");
  std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/" + std::string(stem) + "XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  REQUIRE(fd >= 0);
  ::close(fd);
  return tmpl;
}

std::string write_temp(std::string_view stem, std::string_view content) {
  std::string path = temp_path(stem);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);)
    out.push_back(line);
  return out;
}

// The fake as a child process: stdin/stdout are pipes, stderr goes to a file.
class Fake {
 public:
  struct Options {
    std::vector<std::string> args;                         // after the executable
    std::vector<std::pair<std::string, std::string>> env;  // added to the environment
    std::vector<std::string> temp_files;                   // deleted with the Fake
  };

  explicit Fake(std::string_view script) : Fake(with_script(script)) {}

  explicit Fake(Options opts) : temp_files_(std::move(opts.temp_files)) {
    ::signal(SIGPIPE, SIG_IGN);
    stderr_path_ = temp_path("fake_stderr_");
    int in[2], out[2];
    REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);

    std::vector<std::string> argv_s = {FAKE_APP_SERVER_PATH};
    argv_s.insert(argv_s.end(), opts.args.begin(), opts.args.end());
    std::vector<char*> argv;
    for (auto& a : argv_s)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e)
      env_s.emplace_back(*e);
    for (auto& [k, v] : opts.env)
      env_s.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_s)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    int err_fd = ::open(stderr_path_.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    REQUIRE(err_fd >= 0);

    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(err_fd, 2);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err_fd);
    stdin_ = in[1];
    stdout_ = out[0];
  }

  Fake(const Fake&) = delete;
  Fake& operator=(const Fake&) = delete;

  ~Fake() {
    if (stdin_ >= 0) ::close(stdin_);
    if (stdout_ >= 0) ::close(stdout_);
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::unlink(stderr_path_.c_str());
    for (const auto& p : temp_files_)
      ::unlink(p.c_str());
  }

  static Options with_script(std::string_view script) {
    Options o;
    o.args.push_back(write_temp("fake_script_", script));
    o.temp_files.push_back(o.args.back());
    return o;
  }

  void send(std::string_view line) {
    std::string data(line);
    data += '\n';
    const char* p = data.data();
    std::size_t n = data.size();
    while (n > 0) {
      ssize_t w = ::write(stdin_, p, n);
      if (w < 0 && errno == EINTR) continue;
      REQUIRE(w > 0);
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }

  void send_json(const json::value& v) { send(json::serialize(v)); }

  void close_stdin() {
    ::close(stdin_);
    stdin_ = -1;
  }

  // The next stdout line, or nullopt at end-of-file. Fails the test after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = kTimeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      if (eof_) return std::nullopt;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) FAIL("timed out waiting for a line from the fake");
      pollfd pfd{stdout_, POLLIN, 0};
      int r = ::poll(&pfd, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r == 0) continue;
      char chunk[1 << 16];
      ssize_t n = ::read(stdout_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof_ = true;
      } else {
        buf_.append(chunk, static_cast<std::size_t>(n));
      }
    }
  }

  json::object read_json(std::chrono::milliseconds timeout = kTimeout) {
    auto line = read_line(timeout);
    REQUIRE(line.has_value());
    boost::system::error_code ec;
    json::value v = json::parse(*line, ec);
    INFO(*line);
    REQUIRE(!ec);
    REQUIRE(v.is_object());
    return v.get_object();
  }

  // Reads messages until (and including) the one that matches.
  template <class Pred>
  std::vector<json::object> read_until(Pred pred) {
    std::vector<json::object> out;
    for (;;) {
      out.push_back(read_json());
      if (pred(out.back())) return out;
    }
  }

  // Waits for the process to exit; returns its exit code (128+signal when killed).
  int wait_exit(std::chrono::milliseconds timeout = kTimeout) {
    const auto deadline = Clock::now() + timeout;
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) {
        if (pidfd >= 0) ::close(pidfd);
        FAIL("timed out waiting for the fake to exit");
      }
      if (pidfd >= 0) {
        pollfd pfd{pidfd, POLLIN, 0};
        ::poll(&pfd, 1, static_cast<int>(left.count()));
      } else {
        std::this_thread::sleep_for(5ms);  // no pidfd (old kernel): poll for the exit
      }
    }
    if (pidfd >= 0) ::close(pidfd);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string stderr_text() const { return slurp(stderr_path_); }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  std::string buf_;
  bool eof_ = false;
  bool exited_ = false;
  std::vector<std::string> temp_files_;
  std::string stderr_path_;
};

const std::string kInit =
    R"({"id":1,"method":"initialize","params":{"clientInfo":{"name":"t","title":null,"version":"1.0"},"capabilities":{"experimentalApi":false}}})";

std::string method_of(const json::object& m) {
  if (const json::value* v = m.if_contains("method"); v && v->is_string())
    return std::string(v->get_string());
  return "";
}

bool is_response_to(const json::object& m, const json::value& id) {
  const json::value* v = m.if_contains("id");
  return v && *v == id && !m.contains("method");
}

std::string str_at(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto k : path) {
    REQUIRE(cur->is_object());
    cur = cur->get_object().if_contains(k);
    REQUIRE(cur != nullptr);
  }
  REQUIRE(cur->is_string());
  return std::string(cur->get_string());
}

void handshake(Fake& f) {
  f.send(kInit);
  auto res = f.read_json();
  REQUIRE(is_response_to(res, json::value(1)));
  CHECK(method_of(f.read_json()) == "remoteControl/status/changed");
  f.send(R"({"method":"initialized"})");
}

}  // namespace

TEST_CASE("default reactions follow the real server's turn sequence", "[fake]") {
  Fake f(R"({})");
  f.send(kInit);
  auto init = f.read_json();
  REQUIRE(is_response_to(init, json::value(1)));
  CHECK(str_at(init, {"result", "userAgent"}).rfind("t/0.169.0 ", 0) == 0);
  CHECK(str_at(init, {"result", "platformOs"}) == "linux");
  auto rc = f.read_json();
  CHECK(method_of(rc) == "remoteControl/status/changed");
  CHECK(rc.contains("emittedAtMs"));
  f.send(R"({"method":"initialized"})");

  f.send(R"({"id":2,"method":"thread/start","params":{"cwd":"/tmp","sandbox":"read-only"}})");
  auto ts = f.read_json();
  REQUIRE(is_response_to(ts, json::value(2)));
  CHECK(str_at(ts, {"result", "thread", "id"}) == "thr_1");
  CHECK(str_at(ts, {"result", "model"}) == "mock-model");
  CHECK(str_at(ts, {"result", "sandbox", "type"}) == "readOnly");
  CHECK(method_of(f.read_json()) == "thread/started");

  f.send(
      R"({"id":3,"method":"turn/start","params":{"threadId":"thr_1","input":[{"type":"text","text":"hi","text_elements":[]}]}})");
  auto msgs = f.read_until([](const json::object& m) { return method_of(m) == "turn/completed"; });
  REQUIRE(is_response_to(msgs.front(), json::value(3)));
  CHECK(str_at(msgs.front(), {"result", "turn", "id"}) == "turn_1");
  CHECK(str_at(msgs.front(), {"result", "turn", "status"}) == "inProgress");

  std::vector<std::string> methods;
  std::string text;
  for (std::size_t i = 1; i < msgs.size(); ++i) {
    const auto& m = msgs[i];
    methods.push_back(method_of(m));
    CHECK(m.contains("emittedAtMs"));
    CHECK(str_at(m, {"params", "threadId"}) == "thr_1");
    if (methods.back() == "item/agentMessage/delta") {
      CHECK(str_at(m, {"params", "turnId"}) == "turn_1");
      text += str_at(m, {"params", "delta"});
    }
  }
  const std::vector<std::string> expected = {
      "thread/status/changed",   "turn/started",   "item/started",
      "item/completed",          "item/started",   "item/agentMessage/delta",
      "item/agentMessage/delta", "item/completed", "thread/tokenUsage/updated",
      "thread/status/changed",   "turn/completed"};
  CHECK(methods == expected);
  CHECK(text == "Hello world");
  CHECK(str_at(msgs.back(), {"params", "turn", "status"}) == "completed");
  CHECK(str_at(msgs[8], {"params", "item", "text"}) == "Hello world");
  CHECK(str_at(msgs[8], {"params", "item", "phase"}) == "final_answer");

  f.close_stdin();
  CHECK_FALSE(f.read_line().has_value());
  CHECK(f.wait_exit() == 0);
}

TEST_CASE("errors like the real server; junk lines are ignored", "[fake]") {
  Fake f(R"({})");
  f.send(R"({"id":1,"method":"thread/list","params":{}})");
  auto e1 = f.read_json();
  CHECK(e1.at("error").at("code") == -32600);
  CHECK(str_at(e1, {"error", "message"}) == "Not initialized");

  f.send(kInit);
  f.read_json();
  f.read_json();
  f.send(kInit);
  CHECK(str_at(f.read_json(), {"error", "message"}) == "Already initialized");

  f.send("this is not json");
  f.send("[1,2,3]");
  f.send(R"("just a string")");
  f.send(R"({"method":"some/unknown/notification"})");
  f.send(R"({"id":"string-id-1","method":"no/such/method","params":{}})");
  auto e2 = f.read_json();
  CHECK(e2.at("id") == "string-id-1");
  CHECK(e2.at("error").at("code") == -32600);
  CHECK(str_at(e2, {"error", "message"})
            .rfind("Invalid request: unknown variant `no/such/method`", 0) == 0);

  f.send(R"({"id":5,"method":"turn/interrupt","params":{"threadId":"x","turnId":"y"}})");
  CHECK(str_at(f.read_json(), {"error", "message"}) == "no active turn to interrupt");
  f.close_stdin();
  CHECK(f.wait_exit() == 0);
}

TEST_CASE("scripted: turn/completed before the response; reactions advance per call", "[fake]") {
  Fake f(R"({"on":{"turn/start":[
      [{"notify":"turn/completed","params":{"threadId":"$threadId","turn":{"id":"$turnId","status":"completed"}}},
       {"respond":{"turn":{"id":"$turnId","status":"inProgress","n":"$n"}}}],
      [{"error":{"code":-32001,"message":"Server overloaded; retry later."}}],
      [{"respond":{"call":"$n"}}]
    ]}})");
  handshake(f);
  f.send(R"({"id":7,"method":"turn/start","params":{"threadId":"thr_x","input":[]}})");
  auto first = f.read_json();
  CHECK(method_of(first) == "turn/completed");
  CHECK(str_at(first, {"params", "threadId"}) == "thr_x");
  CHECK(str_at(first, {"params", "turn", "id"}) == "turn_1");
  auto res = f.read_json();
  REQUIRE(is_response_to(res, json::value(7)));
  CHECK(res.at("result").at("turn").at("n") == 1);  // "$n" alone keeps its JSON type

  f.send(R"({"id":8,"method":"turn/start","params":{"threadId":"thr_x"}})");
  auto over = f.read_json();
  CHECK(over.at("error").at("code") == -32001);

  for (int id : {9, 10}) {  // the last reaction repeats
    f.send_json(json::object{{"id", id}, {"method", "turn/start"}, {"params", json::object{}}});
    auto r = f.read_json();
    CHECK(r.at("result").at("call") == id - 6);
  }
  f.close_stdin();
  CHECK(f.wait_exit() == 0);
}

TEST_CASE("server requests: await_reply queues client requests and exposes $reply", "[fake]") {
  const std::string log = temp_path("fake_log_");
  Fake::Options opts = Fake::with_script(R"J({"on":{"turn/start":[
      {"respond":{"turn":{"id":"$turnId"}}},
      {"request":"item/commandExecution/requestApproval",
       "params":{"threadId":"$threadId","turnId":"$turnId","itemId":"call_1","command":"ls"}},
      {"await_reply":true},
      {"notify":"serverRequest/resolved","params":{"threadId":"$threadId","requestId":"$requestId"}},
      {"notify":"test/decision","params":{"decision":"$reply.result.decision","reply":"$reply",
                                          "text":"got $reply.result.decision (cost $$5)"}}
    ]}})J");
  opts.env.emplace_back("FAKE_APP_SERVER_LOG", log);
  opts.temp_files.push_back(log);
  Fake f(opts);
  handshake(f);
  f.send(R"({"id":2,"method":"turn/start","params":{"threadId":"thr_1","input":[]}})");
  REQUIRE(is_response_to(f.read_json(), json::value(2)));
  auto req = f.read_json();
  CHECK(method_of(req) == "item/commandExecution/requestApproval");
  CHECK(req.at("id") == 0);
  CHECK(str_at(req, {"params", "turnId"}) == "turn_1");

  // A client request arrives before the approval answer: it waits for the reaction to finish.
  f.send(R"({"id":3,"method":"account/read","params":{}})");
  f.send(R"({"id":0,"result":{"decision":"accept"}})");
  auto resolved = f.read_json();
  CHECK(method_of(resolved) == "serverRequest/resolved");
  CHECK(resolved.at("params").at("requestId") == 0);
  auto decision = f.read_json();
  CHECK(method_of(decision) == "test/decision");
  CHECK(str_at(decision, {"params", "decision"}) == "accept");
  CHECK(decision.at("params").at("reply") ==
        json::parse(R"({"id":0,"result":{"decision":"accept"}})"));
  CHECK(str_at(decision, {"params", "text"}) == "got accept (cost $5)");
  auto acct = f.read_json();
  REQUIRE(is_response_to(acct, json::value(3)));
  CHECK(acct.at("result").at("account").is_null());

  f.send("not json either");
  f.close_stdin();
  CHECK(f.wait_exit() == 0);
  auto lines = split_lines(slurp(log));
  REQUIRE(lines.size() == 6);
  CHECK(lines[0] == kInit);
  CHECK(lines[4] == R"({"id":0,"result":{"decision":"accept"}})");
  CHECK(lines[5] == "not json either");
}

TEST_CASE("await_reply: stdin closing ends the fake; timeout_ms gives up", "[fake]") {
  SECTION("stdin closed while awaiting") {
    Fake f(R"({"strict_init":false,"on_start":[{"request":"item/tool/requestUserInput","params":{}},
                                              {"await_reply":0},{"notify":"never/sent"}]})");
    CHECK(method_of(f.read_json()) == "item/tool/requestUserInput");
    f.close_stdin();
    CHECK_FALSE(f.read_line().has_value());
    CHECK(f.wait_exit() == 0);
  }
  SECTION("timeout") {
    Fake f(R"({"strict_init":false,"on_start":[{"request":"x/y","id":41},
               {"await_reply":41,"timeout_ms":20},{"notify":"after","params":{"reply":"$reply"}}]})");
    CHECK(f.read_json().at("id") == 41);
    auto after = f.read_json();
    CHECK(method_of(after) == "after");
    CHECK(after.at("params").at("reply").is_null());
    f.close_stdin();
    CHECK(f.wait_exit() == 0);
  }
}

TEST_CASE("malformed output, stderr and death mid-stream", "[fake]") {
  Fake f(R"J({"on":{"thread/start":[
      {"raw":"this is not json"},
      {"raw":"[1,2]"},
      {"raw":"\"a string\""},
      {"raw":"{\"id\":999,\"result\":{}}"},
      {"raw_hex":"7b226d6574686f64223a2278222c22706172616d73223a7b2274223a22ff227d7d"},
      {"stderr":"dying now ($method)"},
      {"notify":"item/agentMessage/delta","params":{"threadId":"$threadId","turnId":"t","itemId":"i","delta":"par"}},
      {"exit":3}
    ]}})J");
  handshake(f);
  f.send(R"({"id":2,"method":"thread/start","params":{}})");
  CHECK(f.read_line() == "this is not json");
  CHECK(f.read_line() == "[1,2]");
  CHECK(f.read_line() == "\"a string\"");
  CHECK(f.read_line() == R"({"id":999,"result":{}})");
  CHECK(f.read_line() == std::string("{\"method\":\"x\",\"params\":{\"t\":\"\xff\"}}"));
  CHECK(method_of(f.read_json()) == "item/agentMessage/delta");
  CHECK_FALSE(f.read_line().has_value());
  CHECK(f.wait_exit() == 3);
  CHECK(f.stderr_text() == "dying now (thread/start)\n");
}

TEST_CASE("huge_line_bytes writes one valid line of exactly N bytes", "[fake]") {
  constexpr std::size_t kBytes = 8u << 20;
  Fake f(R"({"strict_init":false,"on_start":[
      {"huge_line_bytes":8388608,"method":"item/agentMessage/delta",
       "params":{"threadId":"a","turnId":"b","itemId":"c"},"field":"delta"},
      {"notify":"after"}]})");
  auto line = f.read_line();
  REQUIRE(line.has_value());
  CHECK(line->size() == kBytes);
  auto v = json::parse(*line);
  CHECK(v.at("method") == "item/agentMessage/delta");
  CHECK(v.at("params").at("threadId") == "a");
  CHECK(v.at("params").at("delta").as_string().size() > kBytes - 200);
  CHECK(method_of(f.read_json()) == "after");
  f.close_stdin();
  CHECK(f.wait_exit() == 0);
}

TEST_CASE("stream_turn: response first, K interleaved turns, N deltas each", "[fake]") {
  Fake f(
      R"({"on":{"turn/start":[{"stream_turn":{"deltas":1000,"text":"ab","turns":3,"completed_text_max_bytes":10}}]}})");
  handshake(f);
  f.send(R"({"id":2,"method":"turn/start","params":{"threadId":"thr_9","input":[]}})");
  auto first = f.read_json();
  REQUIRE(is_response_to(first, json::value(2)));
  CHECK(str_at(first, {"result", "turn", "id"}) == "turn-1");

  std::map<std::string, int> deltas;
  std::map<std::string, std::string> completed_text;
  std::vector<std::string> delta_order;
  int turns_done = 0;
  while (turns_done < 3) {
    auto m = f.read_json();
    const std::string method = method_of(m);
    CHECK(str_at(m, {"params", "threadId"}) == "thr_9");
    if (method == "item/agentMessage/delta") {
      const auto& p = m.at("params").as_object();
      CHECK(p.size() == 4);  // exactly threadId, turnId, itemId, delta
      CHECK(p.at("delta") == "ab");
      std::string turn(p.at("turnId").as_string());
      ++deltas[turn];
      if (delta_order.size() < 6) delta_order.push_back(turn);
    } else if (method == "item/completed") {
      completed_text[str_at(m, {"params", "turnId"})] = str_at(m, {"params", "item", "text"});
    } else if (method == "turn/completed") {
      CHECK(str_at(m, {"params", "turn", "status"}) == "completed");
      ++turns_done;
    }
  }
  CHECK(deltas == std::map<std::string, int>{{"turn-1", 1000}, {"turn-2", 1000}, {"turn-3", 1000}});
  CHECK(delta_order ==
        std::vector<std::string>{"turn-1", "turn-2", "turn-3", "turn-1", "turn-2", "turn-3"});
  CHECK(completed_text.at("turn-2") == "ababababab");
  f.close_stdin();
  CHECK(f.wait_exit() == 0);
}

TEST_CASE("echo mode answers every request with its params", "[fake]") {
  Fake f(R"({"echo":true})");
  handshake(f);
  for (int i = 2; i < 50; ++i) {
    json::object params{{"i", i}, {"s", "x"}};
    f.send_json(json::object{{"id", i}, {"method", "anything/at/all"}, {"params", params}});
    auto r = f.read_json();
    REQUIRE(is_response_to(r, json::value(i)));
    CHECK(r.at("result").at("echo") == params);
  }
  f.close_stdin();
  CHECK(f.wait_exit() == 0);
}

TEST_CASE("interrupt and steer act on a turn left running", "[fake]") {
  Fake f(
      R"({"on":{"turn/start":[{"default":"response"},{"turn":{"deltas":["slow "],"complete":false}}]}})");
  handshake(f);
  f.send(R"({"id":2,"method":"turn/start","params":{"threadId":"thr_a","input":[]}})");
  auto msgs =
      f.read_until([](const json::object& m) { return method_of(m) == "item/agentMessage/delta"; });
  CHECK(is_response_to(msgs.front(), json::value(2)));

  f.send(
      R"({"id":3,"method":"turn/steer","params":{"threadId":"thr_a","expectedTurnId":"turn_1","input":[]}})");
  auto steer = f.read_json();
  CHECK(str_at(steer, {"result", "turnId"}) == "turn_1");

  f.send(R"({"id":4,"method":"turn/interrupt","params":{"threadId":"thr_a","turnId":"turn_1"}})");
  auto ack = f.read_json();
  REQUIRE(is_response_to(ack, json::value(4)));
  CHECK(ack.at("result").as_object().empty());
  CHECK(method_of(f.read_json()) == "thread/status/changed");
  auto done = f.read_json();
  CHECK(method_of(done) == "turn/completed");
  CHECK(str_at(done, {"params", "turn", "status"}) == "interrupted");
  CHECK(str_at(done, {"params", "turn", "id"}) == "turn_1");

  f.send(R"({"id":5,"method":"turn/interrupt","params":{"threadId":"thr_a","turnId":"turn_1"}})");
  CHECK(str_at(f.read_json(), {"error", "message"}) == "no active turn to interrupt");
  f.close_stdin();
  CHECK(f.wait_exit() == 0);
}

TEST_CASE("no_reply leaves a request unanswered; close_stdout half-kills the fake", "[fake]") {
  Fake f(R"({"on":{"thread/read":[{"no_reply":true}],
                   "thread/list":[{"notify":"bye"},{"close_stdout":true}]}})");
  handshake(f);
  f.send(R"({"id":2,"method":"thread/read","params":{"threadId":"t"}})");
  f.send(R"({"id":3,"method":"model/list","params":{"limit":1}})");
  auto models = f.read_json();  // id 2 was skipped
  REQUIRE(is_response_to(models, json::value(3)));
  CHECK(models.at("result").at("data").as_array().size() == 1);
  CHECK(models.at("result").at("nextCursor") == "1");

  f.send(R"({"id":4,"method":"thread/list","params":{}})");
  CHECK(method_of(f.read_json()) == "bye");
  CHECK_FALSE(f.read_line().has_value());                    // stdout closed ...
  f.send(R"({"id":5,"method":"thread/list","params":{}})");  // ... but stdin is still read
  f.close_stdin();
  CHECK(f.wait_exit() == 0);
}

TEST_CASE("command line: codex-style arguments, inline scripts, bad scripts", "[fake]") {
  SECTION("--version") {
    Fake f(Fake::Options{{"--version"}, {}, {}});
    CHECK(f.read_line() == "codex-cli 0.169.0");
    CHECK(f.wait_exit() == 0);
  }
  SECTION("codex arguments are ignored; the script comes from the environment") {
    Fake f(
        Fake::Options{{"--config", "model=x", "app-server", "--listen", "stdio://"},
                      {{"FAKE_APP_SERVER_SCRIPT_JSON", R"({"initialize":{"codexHome":"/x/y"}})"}},
                      {}});
    f.send(kInit);
    CHECK(str_at(f.read_json(), {"result", "codexHome"}) == "/x/y");
    f.close_stdin();
    CHECK(f.wait_exit() == 0);
  }
  SECTION("an invalid script exits 2 with a message") {
    Fake f(R"({"on":{"turn/start":[{"respnd":{}}]}})");
    CHECK(f.wait_exit() == 2);
    CHECK(f.stderr_text().find("script error") != std::string::npos);
  }
}
