// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// fleet — one program spreading threads over several app-servers (C++ only).
//
// Starts K `codex app-server --listen ws://127.0.0.1:0` daemons, each with its own CODEX_HOME and
// its own capability token file (mode 0600). Port 0 lets the kernel pick a free port when the
// server binds, and the sample reads the port back from the server's startup banner, so no other
// program can take the port between choosing and binding it. Each server must answer /readyz
// within a bounded time. Then one `AsyncCodex` per server connects, all on ONE io_context and one
// OS thread, M threads are placed least-loaded over the healthy servers, one turn runs on each
// thread concurrently, and the sample prints per-server load and the fleet's throughput.
//
// Offline, every scripted answer holds after its first delta until all M turns are streaming, so
// the M turns provably overlap across the servers.
//
//   fleet [--servers K] [--threads M] [--kill-one] [--fail-one] [--netns] [--online]
//
//   --kill-one  SIGKILLs the busiest server once every turn is streaming. Its turns fail with
//               `TransportClosedError` and each one is rerun on a NEW thread on a healthy server:
//               a thread lives on the server that stores it, so it cannot move.
//   --fail-one  starts server 0 without its token file: it exits at startup, the sample reports
//               why, and the work goes to the others.
//   --netns     (root) every server in its own network namespace joined to this host by a veth
//               pair, as if on separate hosts. Skipped, with a message, where that is not possible.

#include <codex/codex.hpp>
#include <codex/transport.hpp>

#include "../common/sample_util.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace samples = codex::samples;
using namespace std::chrono_literals;
using asio::ip::tcp;
using codex::testing::Response;
using Clock = std::chrono::steady_clock;

constexpr const char* kGate = "fleet-all-streaming";
constexpr int kMaxAttempts = 3;
constexpr auto kStartupLimit = 60s;    // every server listening and ready within this
constexpr auto kEventTimeout = 30s;    // no event of a turn for this long fails the run
constexpr auto kWatchdogLimit = 100s;  // the whole run (the smoke test's limit is 120 s)

struct Options {
  int servers = 3;
  int threads = 12;
  bool kill_one = false;
  bool fail_one = false;
  bool netns = false;
};

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

std::string describe_status(int status) {
  return status >= 128 ? "signal " + std::to_string(status - 128)
                       : "status " + std::to_string(status);
}

// ---------------------------------------------------------------- small system helpers

/// A random capability token (32 bytes from the kernel, hex).
std::string random_token() {
  std::ifstream in("/dev/urandom", std::ios::binary);
  std::array<unsigned char, 32> bytes{};
  in.read(reinterpret_cast<char*>(bytes.data()), bytes.size());
  if (!in) throw std::runtime_error("cannot read /dev/urandom");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

/// Creates `path` with mode 0600 from the start (whatever the umask) and writes `secret` into it.
void write_secret_file(const fs::path& path, const std::string& secret) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot create " + path.string());
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) throw std::runtime_error("cannot write " + path.string());
}

/// Runs a short command (`ip ...`) to completion; returns its exit code (127: not found).
int run_command(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return 127;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// ---------------------------------------------------------------- network namespaces (--netns)

/// Thrown when `--netns` cannot be honoured here (not root, no `ip netns`, ...).
class NetnsUnavailable : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One simulated host: a network namespace joined to this one by a veth pair (a /30 link).
struct SimulatedHost {
  std::string ns;         // cxfl-<pid>-<i>
  std::string veth_host;  // this side of the link
  std::string host_ip;    // this side's address, where the host's services are reached
  std::string ns_ip;      // the namespace's address, where its app-server listens
  int fd = -1;            // /run/netns/<ns>, for setns() in the server's child process
};

/// K network namespaces; all of them are deleted by the destructor, whatever happened. Names carry
/// the pid, so namespaces left by a run that was SIGKILLed are recognized and removed next time.
class SimulatedHosts {
 public:
  explicit SimulatedHosts(int count) {
    if (::geteuid() != 0) throw NetnsUnavailable("network namespaces and veth links need root");
    remove_stale();
    const int pid = static_cast<int>(::getpid());
    const std::string net = "10." + std::to_string(free_net(pid)) + ".";
    for (int i = 0; i < count; ++i) {
      SimulatedHost h;
      h.ns = "cxfl-" + std::to_string(pid) + "-" + std::to_string(i);
      h.veth_host = "cxf" + std::to_string(pid) + "h" + std::to_string(i);
      const std::string veth_ns = "cxf" + std::to_string(pid) + "n" + std::to_string(i);
      h.host_ip = net + std::to_string(i) + ".1";
      h.ns_ip = net + std::to_string(i) + ".2";
      hosts_.push_back(h);  // registered first: the destructor removes partial setups too
      const std::vector<std::vector<std::string>> steps = {
          {"ip", "netns", "add", h.ns},
          {"ip", "link", "add", h.veth_host, "type", "veth", "peer", "name", veth_ns},
          {"ip", "link", "set", veth_ns, "netns", h.ns},
          {"ip", "addr", "add", h.host_ip + "/30", "dev", h.veth_host},
          {"ip", "link", "set", h.veth_host, "up"},
          {"ip", "-n", h.ns, "addr", "add", h.ns_ip + "/30", "dev", veth_ns},
          {"ip", "-n", h.ns, "link", "set", veth_ns, "up"},
          {"ip", "-n", h.ns, "link", "set", "lo", "up"},
      };
      for (const auto& step : steps) {
        if (const int rc = run_command(step); rc != 0) {
          std::string cmd;
          for (const auto& a : step)
            cmd += (cmd.empty() ? "" : " ") + a;
          cleanup();
          throw NetnsUnavailable("`" + cmd + "` failed (exit " + std::to_string(rc) + ")");
        }
      }
      hosts_.back().fd = ::open(("/run/netns/" + h.ns).c_str(), O_RDONLY | O_CLOEXEC);
      if (hosts_.back().fd < 0) {
        cleanup();
        throw NetnsUnavailable("cannot open /run/netns/" + h.ns);
      }
    }
  }
  ~SimulatedHosts() { cleanup(); }
  SimulatedHosts(const SimulatedHosts&) = delete;
  SimulatedHosts& operator=(const SimulatedHosts&) = delete;

  const SimulatedHost& at(int i) const { return hosts_.at(static_cast<std::size_t>(i)); }

 private:
  void cleanup() noexcept {
    for (auto& h : hosts_) {
      if (h.fd >= 0) ::close(h.fd);
      h.fd = -1;
      run_command({"ip", "netns", "del", h.ns});        // takes the namespace's veth end along
      run_command({"ip", "link", "del", h.veth_host});  // already gone then; harmless
    }
    hosts_.clear();
  }

  /// N for the links' 10.N.0.0/16: the first of 200..249 (from a pid-chosen start) that no
  /// interface of this host uses, so runs at the same time and existing networks do not clash.
  static int free_net(int pid) {
    std::vector<int> used;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
      for (ifaddrs* a = list; a; a = a->ifa_next) {
        if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
        const auto ip = ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr);
        if ((ip >> 24) == 10) used.push_back(static_cast<int>((ip >> 16) & 0xFF));
      }
      ::freeifaddrs(list);
    }
    for (int k = 0; k < 50; ++k) {
      const int n = 200 + (pid + k) % 50;
      if (std::find(used.begin(), used.end(), n) == used.end()) return n;
    }
    throw NetnsUnavailable("no free 10.N.0.0/16 (N in 200..249) for the links");
  }

  /// Namespaces named after a process that no longer exists (a run that was killed).
  static void remove_stale() {
    DIR* dir = ::opendir("/run/netns");
    if (!dir) return;
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(dir)) {
      std::string name = e->d_name;
      if (name.rfind("cxfl-", 0) != 0) continue;
      const int pid = std::atoi(name.c_str() + 5);
      if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) stale.push_back(name);
    }
    ::closedir(dir);
    for (const auto& ns : stale)
      run_command({"ip", "netns", "del", ns});
  }

  std::vector<SimulatedHost> hosts_;
};

/// Forwards every TCP connection accepted on `listen` to `target`, both ways. With --netns the
/// servers reach the scripted model (which listens on this host's 127.0.0.1) through it.
class Relay {
 public:
  Relay(asio::any_io_executor ex, const tcp::endpoint& listen, tcp::endpoint target)
      : state_(std::make_shared<State>(ex, listen, target)) {
    asio::co_spawn(ex, accept_loop(state_), asio::detached);
  }
  ~Relay() { close(); }
  std::uint16_t port() const { return state_->acceptor.local_endpoint().port(); }
  /// Stops accepting and closes every relayed connection.
  void close() {
    boost::system::error_code ec;
    state_->acceptor.close(ec);
    for (auto& w : state_->sockets)
      if (auto s = w.lock()) s->close(ec);
    state_->sockets.clear();
  }

 private:
  struct State {
    State(asio::any_io_executor ex, const tcp::endpoint& listen, tcp::endpoint t)
        : acceptor(ex, listen), target(std::move(t)) {}
    tcp::acceptor acceptor;
    tcp::endpoint target;
    std::vector<std::weak_ptr<tcp::socket>> sockets;
  };

  static asio::awaitable<void> accept_loop(std::shared_ptr<State> st) {
    for (;;) {
      auto [ec, sock] = co_await st->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      auto down = std::make_shared<tcp::socket>(std::move(sock));
      auto up = std::make_shared<tcp::socket>(st->acceptor.get_executor());
      auto [cec] = co_await up->async_connect(st->target, asio::as_tuple(asio::use_awaitable));
      if (cec) continue;
      st->sockets.push_back(down);
      st->sockets.push_back(up);
      asio::co_spawn(st->acceptor.get_executor(), pump(down, up), asio::detached);
      asio::co_spawn(st->acceptor.get_executor(), pump(up, down), asio::detached);
    }
  }

  static asio::awaitable<void> pump(std::shared_ptr<tcp::socket> from,
                                    std::shared_ptr<tcp::socket> to) {
    std::array<char, 16384> buf{};
    for (;;) {
      auto [ec, n] =
          co_await from->async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      if (n > 0) {
        auto [wec, w] = co_await asio::async_write(*to, asio::buffer(buf.data(), n),
                                                   asio::as_tuple(asio::use_awaitable));
        if (wec) break;
      }
      if (ec) break;
    }
    boost::system::error_code ignored;
    to->shutdown(tcp::socket::shutdown_send, ignored);
  }

  std::shared_ptr<State> state_;
};

// ---------------------------------------------------------------- one app-server process

/// `codex app-server` as a child process. Its stdout and stderr go into a pipe that a coroutine
/// reads: the startup banner gives the bound port, and the last lines explain a failure. The
/// child gets SIGKILL if this program dies (PR_SET_PDEATHSIG), and the destructor kills and reaps
/// it. Exits are noticed through SIGCHLD (`try_reap`), not by polling.
class ServerProcess {
 public:
  struct Spec {
    std::vector<std::string> argv;
    std::vector<std::string> envp;  // KEY=VALUE
    std::string cwd;
    int netns_fd = -1;  // setns() into it before exec (--netns)
  };

  ServerProcess(asio::any_io_executor ex, Spec spec) : state_(std::make_shared<State>(ex)) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
    std::vector<char*> argv, envp;
    for (auto& a : spec.argv)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : spec.envp)
      envp.push_back(e.data());
    envp.push_back(nullptr);
    const pid_t parent = ::getpid();

    pid_ = ::fork();
    if (pid_ < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      throw std::runtime_error("fork failed");
    }
    if (pid_ == 0) {  // the child: async-signal-safe calls only, then exec
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(126);
      if (spec.netns_fd >= 0 && ::setns(spec.netns_fd, CLONE_NEWNET) != 0) ::_exit(125);
      int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) ::dup2(devnull, 0);
      ::dup2(fds[1], 1);
      ::dup2(fds[1], 2);
      ::close_range(3, ~0U, 0);  // nothing of this program leaks into the server
      if (!spec.cwd.empty() && ::chdir(spec.cwd.c_str()) != 0) ::_exit(126);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    state_->pipe.assign(fds[0]);
    asio::co_spawn(ex, read_output(state_), asio::detached);
  }
  ~ServerProcess() { kill_now(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return !state_->exit_status; }
  std::optional<int> exit_status() const { return state_->exit_status; }
  /// True once its output pipe reached the end (all of it was read) or was closed.
  bool output_closed() const { return state_->output_closed; }
  /// `ws://HOST:PORT` from the banner line `listening on: ...`, once printed.
  const std::optional<std::string>& listen_url() const { return state_->listen_url; }

  /// The server's own explanation: its `Error: ...` line, else its last line of output.
  std::string diagnosis() const {
    for (const auto& line : state_->tail)
      if (line.rfind("Error: ", 0) == 0) return line;
    return state_->tail.empty() ? std::string("(no output)") : state_->tail.back();
  }

  /// Reaps the child if it has exited (WNOHANG). True when this call noticed the exit.
  bool try_reap() {
    if (pid_ <= 0 || state_->exit_status) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    state_->exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    state_->changed();
    return true;
  }

  void signal(int sig) {
    if (pid_ > 0 && !state_->exit_status) ::kill(-pid_, sig);  // its process group
  }

  /// SIGKILL and reap now (idempotent). Closes the output pipe too.
  void kill_now() {
    if (pid_ > 0 && !state_->exit_status) {
      ::kill(-pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      state_->exit_status = 128 + SIGKILL;
      state_->changed();
    }
    boost::system::error_code ec;
    state_->pipe.close(ec);
  }

  /// Waits until `done()` holds (true) or `deadline` passes (false). Woken by the output reader
  /// and by `try_reap`, never by polling.
  asio::awaitable<bool> wait_until(std::function<bool()> done, Clock::time_point deadline) {
    auto st = state_;
    while (!done()) {
      if (Clock::now() >= deadline) co_return false;
      st->wake.expires_at(deadline);
      co_await st->wake.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    co_return true;
  }

 private:
  struct State {
    explicit State(asio::any_io_executor ex) : pipe(ex), wake(ex) {}
    asio::posix::stream_descriptor pipe;
    asio::steady_timer wake;  // cancelled on every change, to wake `wait_until`
    std::optional<std::string> listen_url;
    std::deque<std::string> tail;
    bool output_closed = false;
    std::optional<int> exit_status;
    void changed() { wake.cancel(); }
  };

  static asio::awaitable<void> read_output(std::shared_ptr<State> st) {
    std::array<char, 4096> chunk{};
    std::string partial;
    for (;;) {
      auto [ec, n] = co_await st->pipe.async_read_some(asio::buffer(chunk),
                                                       asio::as_tuple(asio::use_awaitable));
      partial.append(chunk.data(), n);
      for (auto pos = partial.find('\n'); pos != std::string::npos; pos = partial.find('\n')) {
        std::string line = partial.substr(0, pos);
        partial.erase(0, pos + 1);
        if (auto at = line.find("listening on: "); at != std::string::npos && !st->listen_url) {
          st->listen_url = line.substr(at + 14);
          st->changed();
        }
        st->tail.push_back(std::move(line));
        if (st->tail.size() > 40) st->tail.pop_front();
      }
      if (ec) break;
    }
    st->output_closed = true;
    st->changed();
  }

  std::shared_ptr<State> state_;
  pid_t pid_ = -1;
};

// ---------------------------------------------------------------- the fleet

enum class Health { starting, up, failed, killed, down };

std::string_view to_string(Health s) {
  switch (s) {
    case Health::starting:
      return "starting";
    case Health::up:
      return "up";
    case Health::failed:
      return "failed";
    case Health::killed:
      return "killed";
    case Health::down:
      return "down";
  }
  return "?";
}

/// One app-server of the fleet, its client and the load it carried.
struct Server {
  int index = 0;
  std::string listen_host = "127.0.0.1";
  std::unique_ptr<codex::testing::RealCodexEnv> home;  // offline: its own CODEX_HOME
  fs::path token_file;
  std::unique_ptr<ServerProcess> process;
  std::string endpoint;  // ws://HOST:PORT, once listening
  std::optional<codex::AsyncCodex> client;
  Health state = Health::starting;
  std::string note;                    // why it failed or went down
  std::unique_ptr<Relay> model_relay;  // --netns
  Clock::time_point spawned{};
  bool own_netns = false;  // its network namespace differs from this program's

  int in_flight = 0;  // turns running now (the placement key)
  int threads = 0;    // threads started here
  int turns = 0;      // turns completed here
  int errors = 0;     // turns that failed here
  std::size_t events = 0;
  Clock::duration busy{};  // time with at least one turn in flight
  Clock::time_point busy_since{};

  bool healthy() const { return state == Health::up && process && process->running(); }
};

/// Counts a turn in flight on a server while it lives (and the server's busy time).
class InFlight {
 public:
  explicit InFlight(Server& s) : s_(s) {
    if (s_.in_flight++ == 0) s_.busy_since = Clock::now();
  }
  ~InFlight() {
    if (--s_.in_flight == 0) s_.busy += Clock::now() - s_.busy_since;
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  Server& s_;
};

// snippet-begin: placement
/// Least-loaded placement: the healthy server with the fewest turns in flight, the lowest index
/// on a tie. When all threads start at once this deals them out round-robin; afterwards it
/// steers work (a rerun, a late thread) away from busy servers and never to a dead one.
Server* place(const std::vector<std::unique_ptr<Server>>& fleet) {
  Server* best = nullptr;
  for (const auto& s : fleet)
    if (s->healthy() && (!best || s->in_flight < best->in_flight)) best = s.get();
  return best;
}
// snippet-end: placement

/// What one job (one thread, one turn) ended with.
struct JobResult {
  int job = 0;
  int server = -1;  // where it completed
  int attempts = 0;
  codex::TurnStatus status = codex::TurnStatus::unknown;
  std::size_t chars = 0;
};

class Fleet {
 public:
  Fleet(asio::io_context& ioc, samples::SampleEnv& env, const Options& opt,
        const SimulatedHosts* hosts)
      : ioc_(ioc), env_(env), opt_(opt), hosts_(hosts), sigchld_(ioc, SIGCHLD), watchdog_(ioc) {
    // Token files live in a 0700 directory named after this process; one left by a killed run
    // (its process is gone) is removed here.
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(fs::temp_directory_path(), ec)) {
      const std::string name = e.path().filename().string();
      if (name.rfind("codex-fleet-", 0) != 0) continue;
      const int pid = std::atoi(name.c_str() + 12);
      if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(e.path(), ec);
    }
    run_dir_ = fs::temp_directory_path() / ("codex-fleet-" + std::to_string(::getpid()));
    fs::remove_all(run_dir_);
    fs::create_directories(run_dir_);
    fs::permissions(run_dir_, fs::perms::owner_all, fs::perm_options::replace);
  }
  ~Fleet() {
    for (auto& s : servers_) {
      s->client.reset();  // before the process: the client may still hold its socket
      if (s->process) s->process->kill_now();
    }
    std::error_code ec;
    fs::remove_all(run_dir_, ec);
  }

  asio::awaitable<void> main();

  const std::vector<std::unique_ptr<Server>>& servers() const { return servers_; }
  const std::vector<JobResult>& results() const { return results_; }
  Clock::duration wall() const { return wall_; }
  bool all_streamed_together() const { return streaming_ == opt_.threads; }
  int reruns() const { return reruns_; }
  int victim() const { return victim_; }
  int victim_in_flight() const { return victim_in_flight_; }
  bool watchdog_fired() const { return watchdog_fired_; }

 private:
  void start_process(Server& s);
  asio::awaitable<void> bring_up(Server& s, Clock::time_point deadline);
  asio::awaitable<void> connect(Server& s);
  asio::awaitable<JobResult> run_job(int job);
  void on_first_delta();
  void script_rerun();
  asio::awaitable<void> watch_children();
  asio::awaitable<void> watch_time();
  asio::awaitable<void> stop_servers();
  asio::awaitable<void> run_all();

  asio::io_context& ioc_;
  samples::SampleEnv& env_;
  const Options& opt_;
  const SimulatedHosts* hosts_;
  asio::signal_set sigchld_;
  asio::steady_timer watchdog_;
  fs::path run_dir_;
  std::vector<std::unique_ptr<Server>> servers_;
  std::vector<JobResult> results_;
  Clock::duration wall_{};
  int streaming_ = 0;  // jobs whose first attempt has streamed its first delta
  int reruns_ = 0;
  int victim_ = -1;
  int victim_in_flight_ = 0;
  bool finished_ = false;
  bool watchdog_fired_ = false;
};

void Fleet::start_process(Server& s) {
  codex::CodexConfig base = env_.config();
  if (!env_.online()) {
    s.home = std::make_unique<codex::testing::RealCodexEnv>(*env_.model());
    base = s.home->config();
  }
  if (hosts_) s.listen_host = hosts_->at(s.index).ns_ip;

  // snippet-begin: start-server
  // One token per server, in a file only this user can read; the server reads it at startup.
  s.token_file = run_dir_ / ("ws-token-" + std::to_string(s.index));
  write_secret_file(s.token_file, random_token());
  std::vector<std::string> argv{codex::resolve_codex_bin(base)};
  for (const auto& kv : base.config_overrides) {
    argv.emplace_back("--config");
    argv.push_back(kv);
  }
  // Port 0: the kernel picks a free port as the server binds; the banner tells which.
  argv.insert(argv.end(), {"app-server", "--listen", "ws://" + s.listen_host + ":0", "--ws-auth",
                           "capability-token", "--ws-token-file", s.token_file.string()});
  // snippet-end: start-server
  if (opt_.fail_one && s.index == 0) fs::remove(s.token_file);  // server 0 will find no token

  if (hosts_ && env_.model()) {
    // The scripted model listens on this host's 127.0.0.1: the server's namespace reaches it
    // through a relay on this side of its veth link.
    const auto& h = hosts_->at(s.index);
    s.model_relay = std::make_unique<Relay>(
        ioc_.get_executor(), tcp::endpoint(asio::ip::make_address_v4(h.host_ip), 0),
        tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), env_.model()->port()));
    const std::string from = "127.0.0.1:" + std::to_string(env_.model()->port());
    const std::string to = h.host_ip + ":" + std::to_string(s.model_relay->port());
    for (auto& a : argv)
      if (auto at = a.find(from); at != std::string::npos) a.replace(at, from.size(), to);
  }

  std::map<std::string, std::string> envm;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    if (auto eq = kv.find('='); eq != std::string::npos && eq > 0)
      envm.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  for (const auto& k : base.env_remove)
    envm.erase(k);
  for (const auto& [k, v] : base.env)
    envm[k] = v;
  ServerProcess::Spec spec;
  spec.argv = std::move(argv);
  for (const auto& [k, v] : envm)
    spec.envp.push_back(k + "=" + v);
  spec.cwd = base.cwd.value_or("");
  spec.netns_fd = hosts_ ? hosts_->at(s.index).fd : -1;
  s.spawned = Clock::now();
  s.process = std::make_unique<ServerProcess>(ioc_.get_executor(), std::move(spec));
}

asio::awaitable<void> Fleet::bring_up(Server& s, Clock::time_point deadline) {
  ServerProcess& p = *s.process;
  // The banner, or the end of the output (the server is exiting; read all of it first).
  std::function<bool()> banner_or_end = [&p] { return p.listen_url() || p.output_closed(); };
  co_await p.wait_until(banner_or_end, deadline);
  if (!p.listen_url()) {
    s.state = Health::failed;
    if (!p.output_closed()) {
      s.note = "no `listening on` banner within the startup limit";
      co_return;
    }
    std::function<bool()> exited = [&p] { return !p.running(); };
    co_await p.wait_until(exited, std::min(deadline, Clock::now() + 5s));  // for its status
    s.note = (p.running() ? std::string("closed its output")
                          : "exited with " + describe_status(*p.exit_status())) +
             ": " + p.diagnosis();
    co_return;
  }
  s.endpoint = *p.listen_url();
  // GET /readyz needs no token. Poll it, bounded by the startup deadline.
  asio::steady_timer pause(co_await asio::this_coro::executor);
  bool ready = false;
  while (!ready && p.running() && Clock::now() < deadline) {
    ready = co_await codex::probe_ready(s.endpoint, 500ms);
    if (!ready) {
      pause.expires_after(25ms);
      co_await pause.async_wait(asio::use_awaitable);
    }
  }
  if (!ready) {
    s.state = Health::failed;
    s.note = p.running()
                 ? "/readyz did not answer 200 in time"
                 : "exited with " + describe_status(*p.exit_status()) + ": " + p.diagnosis();
    co_return;
  }
  std::cout << "server " << s.index << ": " << s.endpoint << " ready after " << std::fixed
            << std::setprecision(0) << ms(Clock::now() - s.spawned) << " ms (pid " << p.pid()
            << ")\n";
  s.state = Health::up;
  std::error_code ec;
  s.own_netns = fs::read_symlink("/proc/" + std::to_string(p.pid()) + "/ns/net", ec) !=
                fs::read_symlink("/proc/self/ns/net", ec);
}

asio::awaitable<void> Fleet::connect(Server& s) {
  // snippet-begin: connect
  codex::CodexConfig cfg;
  cfg.endpoint = s.endpoint;                    // ws://HOST:PORT of this server
  cfg.auth_token_file = s.token_file.string();  // read at connect time, never logged
  cfg.request_timeout = 30s;
  cfg.client_name = "codex_cpp_fleet";
  s.client.emplace(ioc_.get_executor(), std::move(cfg));  // every client on the same io_context
  co_await s.client->start();                             // WebSocket upgrade + initialize
  // snippet-end: connect
}

void Fleet::script_rerun() {
  if (!env_.online())
    env_.script(Response::message("Rerun answer: the fleet placed this turn again.",
                                  {.deltas = 6, .delay = 2ms}));
}

void Fleet::on_first_delta() {
  if (++streaming_ != opt_.threads) return;
  int up = 0;
  for (auto& s : servers_)
    up += s->healthy() ? 1 : 0;
  std::cout << "all " << opt_.threads << " turns are streaming at once on " << up << " servers\n";
  if (opt_.kill_one) {
    // The busiest healthy server (the highest index on a tie) goes down mid-turn.
    Server* victim = nullptr;
    for (auto& s : servers_)
      if (s->healthy() && (!victim || s->in_flight >= victim->in_flight)) victim = s.get();
    if (victim) {
      victim_ = victim->index;
      victim_in_flight_ = victim->in_flight;
      std::cout << "--kill-one: SIGKILL server " << victim->index << " (pid "
                << victim->process->pid() << ") with " << victim->in_flight << " turns in flight\n";
      victim->process->kill_now();
      victim->state = Health::killed;
      victim->note = "SIGKILLed by --kill-one";
    }
  }
  if (auto* model = env_.model()) model->release(kGate);  // offline: let every answer finish
}

// snippet-begin: run-job
asio::awaitable<JobResult> Fleet::run_job(int job) {
  JobResult r{.job = job};
  bool streamed = false;  // counted once per job, whichever attempt streams first
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    Server* s = place(servers_);
    if (!s) throw std::runtime_error("job " + std::to_string(job) + ": no healthy server left");
    InFlight load(*s);  // counted before the first co_await: the next job sees it
    r.chars = 0;
    if (attempt > 1) script_rerun();  // offline: the scripted model's answer to the rerun
    try {
      codex::ThreadStartOptions topts{.ephemeral = true};
      codex::AsyncThread thread = co_await s->client->thread_start(std::move(topts));
      ++s->threads;
      if (attempt > 1)
        std::cout << "job " << job << ": rerun on server " << s->index << ", new thread "
                  << thread.id() << "\n";
      codex::Input prompt("Job " + std::to_string(job) + ": describe a fleet in one sentence.");
      codex::AsyncTurnHandle turn = co_await thread.turn(std::move(prompt));
      codex::AsyncTurnStream events = turn.stream();
      while (auto ev = co_await events.next(kEventTimeout)) {
        ++s->events;
        if (ev->method != "item/agentMessage/delta") continue;
        if (!std::exchange(streamed, true)) on_first_delta();
        r.chars += ev->delta().size();
      }
      r.status = events.result().status;
      (r.status == codex::TurnStatus::completed ? s->turns : s->errors) += 1;
      r.server = s->index;
      r.attempts = attempt;
      co_return r;
    } catch (const codex::TransportClosedError& e) {
      // The server is gone, and the thread with it: count the failure, mark the server down
      // and go round again, which starts a NEW thread on a healthy server.
      std::cout << "job " << job << ": server " << s->index << " failed mid-turn: " << e.what()
                << "\n";
      ++s->errors;
      if (s->state == Health::up) {
        s->state = Health::down;
        s->note = "connection closed";
      }
      ++reruns_;
    }
  }
  throw std::runtime_error("job " + std::to_string(job) + ": failed " +
                           std::to_string(kMaxAttempts) + " times");
}
// snippet-end: run-job

asio::awaitable<void> Fleet::watch_children() {
  for (;;) {
    auto [ec, sig] = co_await sigchld_.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    for (auto& s : servers_) {
      if (!s->process || !s->process->try_reap() || finished_) continue;
      if (s->state == Health::up) {
        s->state = Health::down;
        s->note = "exited with " + describe_status(*s->process->exit_status());
        std::cout << "server " << s->index << ": process " << s->note << "\n";
      }
    }
  }
}

asio::awaitable<void> Fleet::watch_time() {
  watchdog_.expires_after(kWatchdogLimit);
  auto [ec] = co_await watchdog_.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;
  // Every wait of the run is bounded already; this ends a run stuck anyway: with the servers
  // gone, every pending call fails and the coroutines unwind.
  watchdog_fired_ = true;
  std::cout << "watchdog: the run took longer than " << kWatchdogLimit.count()
            << " s; stopping every server\n";
  for (auto& s : servers_)
    if (s->process) s->process->kill_now();
  if (auto* model = env_.model()) model->release(kGate);
}

asio::awaitable<void> Fleet::stop_servers() {
  finished_ = true;
  const auto t0 = Clock::now();
  std::vector<ServerProcess*> signalled;
  for (auto& s : servers_) {
    if (s->client && s->state == Health::up) co_await s->client->close();
    if (s->process && s->process->running()) {
      s->process->signal(SIGTERM);
      signalled.push_back(s->process.get());
    }
  }
  int graceful = 0;
  const auto deadline = Clock::now() + 5s;
  for (auto& s : servers_) {
    if (!s->process) continue;
    ServerProcess& p = *s->process;
    std::function<bool()> exited = [&p] { return !p.running(); };
    const bool gone = co_await p.wait_until(exited, deadline);
    if (gone && std::count(signalled.begin(), signalled.end(), &p) > 0) ++graceful;
    p.kill_now();  // SIGKILL if SIGTERM was not enough; closes the pipe either way
    if (s->model_relay) s->model_relay->close();
  }
  if (!signalled.empty())
    std::cout << "stopped " << signalled.size() << " servers (" << graceful
              << " exited on SIGTERM) in " << std::fixed << std::setprecision(0)
              << ms(Clock::now() - t0) << " ms\n";
}

asio::awaitable<void> Fleet::main() {
  asio::co_spawn(ioc_, watch_children(), asio::detached);
  asio::co_spawn(ioc_, watch_time(), asio::detached);
  std::exception_ptr failure;
  try {
    co_await run_all();
  } catch (...) {
    failure = std::current_exception();
  }
  // Whatever happened: close the clients, stop the servers, end the watchers (so `run()` returns).
  co_await stop_servers();
  boost::system::error_code ec;
  sigchld_.cancel(ec);
  watchdog_.cancel();
  if (failure) std::rethrow_exception(failure);
}

asio::awaitable<void> Fleet::run_all() {
  for (int i = 0; i < opt_.servers; ++i) {
    servers_.push_back(std::make_unique<Server>());
    servers_.back()->index = i;
    start_process(*servers_.back());
  }
  const auto deadline = Clock::now() + kStartupLimit;
  for (auto& s : servers_)
    co_await bring_up(*s, deadline);
  for (auto& s : servers_) {
    if (s->state == Health::up) {
      try {
        co_await connect(*s);
      } catch (const codex::CodexError& e) {
        s->state = Health::failed;
        s->note = std::string("connect: ") + e.what();
      }
    }
    if (s->state == Health::failed)
      std::cout << "server " << s->index << ": FAILED to start: " << s->note << "\n";
  }
  if (!place(servers_)) throw std::runtime_error("no app-server of the fleet came up");

  if (!env_.online())
    for (int i = 0; i < opt_.threads; ++i)
      env_.script(Response::message("Fleet answer: spread the threads, watch the load, and "
                                    "rerun what a dead server dropped.",
                                    {.deltas = 8, .delay = 2ms})
                      .hold_after_deltas(kGate, 1));

  std::cout << "placing " << opt_.threads
            << " threads least-loaded (fewest turns in flight, lowest index on a tie)\n";
  const auto t0 = Clock::now();
  using Op = decltype(asio::co_spawn(ioc_, run_job(0), asio::deferred));
  std::vector<Op> ops;
  for (int j = 0; j < opt_.threads; ++j)
    ops.push_back(asio::co_spawn(ioc_, run_job(j), asio::deferred));
  auto group = asio::experimental::make_parallel_group(std::move(ops));
  auto [order, errors, results] =
      co_await group.async_wait(asio::experimental::wait_for_all(), asio::use_awaitable);
  wall_ = Clock::now() - t0;
  results_ = std::move(results);
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

// ---------------------------------------------------------------- the report

void print_table(const Fleet& fleet, const Options& opt) {
  std::cout << "\nserver  endpoint                  state    threads  turns  events  errors"
               "  busy ms\n";
  std::size_t events = 0;
  int completed = 0;
  for (const auto& s : fleet.servers()) {
    std::cout << std::setw(6) << s->index << "  " << std::left << std::setw(24)
              << (s->endpoint.empty() ? "-" : s->endpoint) << "  " << std::setw(7)
              << to_string(s->state) << std::right << std::setw(9) << s->threads << std::setw(7)
              << s->turns << std::setw(8) << s->events << std::setw(8) << s->errors << std::setw(9)
              << std::fixed << std::setprecision(0) << ms(s->busy) << "\n";
    events += s->events;
    completed += s->turns;
  }
  for (const auto& s : fleet.servers())
    if (!s->note.empty()) std::cout << "server " << s->index << ": " << s->note << "\n";
  const double secs = std::chrono::duration<double>(fleet.wall()).count();
  int healthy = 0;
  for (const auto& s : fleet.servers())
    healthy += s->state == Health::up ? 1 : 0;
  std::cout << "fleet: " << completed << " of " << opt.threads << " turns completed ("
            << fleet.reruns() << " rerun) on " << healthy << " of " << opt.servers << " servers in "
            << std::setprecision(0) << ms(fleet.wall()) << " ms wall: " << std::setprecision(1)
            << completed / secs << " turns/s, " << events / secs << " events/s\n";
}

int run(samples::SampleEnv& env, const Options& opt) {
  std::unique_ptr<SimulatedHosts> hosts;  // outlives the fleet: deleted after its processes
  if (opt.netns && env.online()) {
    std::cout << "netns: unavailable here (with --online the namespaces would need a route to "
                 "the internet); skipped\n";
    return 0;
  }
  if (opt.netns) {
    try {
      hosts = std::make_unique<SimulatedHosts>(opt.servers);
    } catch (const NetnsUnavailable& e) {
      std::cout << "netns: unavailable here (" << e.what() << "); skipped\n";
      return 0;
    }
    std::cout << "netns: " << opt.servers << " network namespaces, each joined by a veth link ("
              << hosts->at(0).host_ip << " <-> " << hosts->at(0).ns_ip << ", ...)\n";
  }

  std::exception_ptr failure;
  asio::io_context ioc;
  Fleet fleet(ioc, env, opt, hosts.get());
  asio::co_spawn(ioc, fleet.main(), [&](std::exception_ptr e) { failure = e; });
  ioc.run();
  if (failure) std::rethrow_exception(failure);
  print_table(fleet, opt);

  samples::check(!fleet.watchdog_fired(), "the run finished within the watchdog limit");
  int completed = 0;
  for (const auto& r : fleet.results())
    completed += r.status == codex::TurnStatus::completed && r.chars > 0 ? 1 : 0;
  samples::check(completed == opt.threads, "every thread's turn completed with an answer");
  if (env.online()) return 0;
  samples::check(fleet.all_streamed_together(), "all turns were in flight together");
  const auto& servers = fleet.servers();
  if (opt.fail_one)
    samples::check(
        servers[0]->state == Health::failed && servers[0]->threads == 0 &&
            servers[0]->note.find("failed to read websocket auth secret") != std::string::npos,
        "server 0 failed to start (no token file), was reported and got no work");
  if (opt.kill_one) {
    const int v = fleet.victim();
    samples::check(v >= 0 && servers[v]->state == Health::killed && servers[v]->turns == 0 &&
                       servers[v]->errors == fleet.victim_in_flight() &&
                       fleet.reruns() == fleet.victim_in_flight() && fleet.reruns() > 0,
                   "every turn of the killed server failed with TransportClosedError and was "
                   "rerun");
    bool elsewhere = true;
    for (const auto& r : fleet.results())
      if (r.attempts > 1) elsewhere = elsewhere && r.server != v;
    samples::check(elsewhere, "every rerun completed on a new thread on another server");
  } else {
    int rerun = 0;
    for (const auto& r : fleet.results())
      rerun += r.attempts > 1 ? 1 : 0;
    samples::check(rerun == 0, "no turn needed a rerun");
  }
  if (hosts)
    for (const auto& s : servers)
      if (s->state == Health::up)
        samples::check(
            s->own_netns && s->endpoint.rfind("ws://" + hosts->at(s->index).ns_ip + ":", 0) == 0,
            "server " + std::to_string(s->index) + " served from its own namespace");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  opt.servers = std::stoi(samples::flag_value(argc, argv, "--servers").value_or("3"));
  opt.threads = std::stoi(samples::flag_value(argc, argv, "--threads").value_or("12"));
  opt.kill_one = samples::has_flag(argc, argv, "--kill-one");
  opt.fail_one = samples::has_flag(argc, argv, "--fail-one");
  opt.netns = samples::has_flag(argc, argv, "--netns");
  if (opt.servers < 1 || opt.servers > 64 || opt.threads < 1 ||
      (opt.kill_one && opt.servers - (opt.fail_one ? 1 : 0) < 2)) {
    std::cerr << "usage: fleet [--servers K (1..64)] [--threads M] [--kill-one] [--fail-one] "
                 "[--netns] [--online]\n--kill-one needs two servers that start\n";
    return 2;
  }
  return samples::run_sample(argc, argv, "fleet",
                             [&opt](samples::SampleEnv& env) { return run(env, opt); });
}
