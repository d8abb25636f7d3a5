// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// The stdio transport: spawns `codex app-server --listen stdio://` with Boost.Process v2.
// Boost.Process v2 (1.81) has no compiled library and its header-only mode misses
// process_environment::on_setup: compile its sources here, in the one TU that uses it.
#define BOOST_PROCESS_V2_SEPARATE_COMPILATION 1

#include "engine.hpp"
#include "framer.hpp"

#include <codex/config.hpp>
#include <codex/errors.hpp>
#include <codex/transport.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/readable_pipe.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/writable_pipe.hpp>
#include <boost/asio/write.hpp>
#include <boost/process/v2/environment.hpp>
#include <boost/process/v2/process.hpp>
#include <boost/process/v2/src.hpp>
#include <boost/process/v2/start_dir.hpp>
#include <boost/process/v2/stdio.hpp>

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <filesystem>

extern char** environ;

#ifndef CODEX_CPP_DEFAULT_CLI_DIR
#define CODEX_CPP_DEFAULT_CLI_DIR ""
#endif

namespace codex {

namespace asio = boost::asio;
namespace bp = boost::process::v2;
namespace fs = std::filesystem;
using asio::use_awaitable;

namespace {

constexpr const char* kPinnedRel =
    "node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex";

bool is_executable(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

std::optional<std::string> find_pinned_install() {
  std::vector<fs::path> dirs;
  if (const char* d = std::getenv("CODEX_CPP_CLI_DIR"); d && *d) dirs.emplace_back(d);
  if (*CODEX_CPP_DEFAULT_CLI_DIR) dirs.emplace_back(CODEX_CPP_DEFAULT_CLI_DIR);
  std::error_code ec;
  for (fs::path p = fs::current_path(ec); !ec && !p.empty(); p = p.parent_path()) {
    dirs.push_back(p / ".codex-cli");
    if (p == p.root_path()) break;
  }
  for (auto& d : dirs) {
    auto c = d / kPinnedRel;
    if (is_executable(c)) return c.string();
  }
  return std::nullopt;
}

std::optional<std::string> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  std::string_view rest(path);
  while (!rest.empty()) {
    auto pos = rest.find(':');
    std::string_view dir = rest.substr(0, pos);
    if (!dir.empty()) {
      fs::path c = fs::path(std::string(dir)) / name;
      if (is_executable(c)) return c.string();
    }
    if (pos == std::string_view::npos) break;
    rest.remove_prefix(pos + 1);
  }
  return std::nullopt;
}

/// In the child, before exec: SIGKILL it when the thread that spawned it dies (so it never
/// outlives a killed parent), and put it in its own process group so a terminal's Ctrl-C reaches
/// only the parent, which then closes it.
struct child_setup {
  template <class Launcher>
  boost::system::error_code on_exec_setup(Launcher&, const bp::filesystem::path&,
                                          const char* const*) {
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() == 1) ::_exit(127);  // the parent already died
    return {};
  }
};

/// A write to the stdin of a child that died raises SIGPIPE, whose default action would kill the
/// whole program; the write must fail with EPIPE instead. A handler the program installed itself
/// is left alone.
void ignore_sigpipe() {
  struct sigaction current {};
  if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    ::sigemptyset(&ign.sa_mask);
    ::sigaction(SIGPIPE, &ign, nullptr);
  }
}

class StdioTransport final : public Transport, public std::enable_shared_from_this<StdioTransport> {
 public:
  StdioTransport(asio::any_io_executor ex, const CodexConfig& cfg)
      : ex_(ex),
        cfg_(cfg),
        in_(ex),
        out_(ex),
        err_(ex),
        framer_(cfg.limits.max_line_bytes),
        tail_(std::make_shared<Tail>()) {
    tail_->max_lines = cfg.limits.stderr_tail_lines;
  }

  ~StdioTransport() override { kill(); }

  asio::awaitable<void> open() override {
    ignore_sigpipe();
    argv_ = build_launch_args(cfg_);
    std::vector<std::string> env = build_env();
    std::vector<std::string> args(argv_.begin() + 1, argv_.end());
    try {
      // The launcher calls notify_fork() on the context of the executor it is given, in the
      // parent and in the child. On the caller's context that would re-register every descriptor
      // the program registered there (epoll refuses some, e.g. a file on stdin), so the process
      // handle lives on a private context; the pipes stay on the client's executor.
      auto lex = launch_ctx_.get_executor();
      if (cfg_.cwd) {
        proc_.emplace(lex, bp::filesystem::path(argv_[0]), args, bp::process_stdio{in_, out_, err_},
                      bp::process_environment(env), bp::process_start_dir(*cfg_.cwd),
                      child_setup{});
      } else {
        proc_.emplace(lex, bp::filesystem::path(argv_[0]), args, bp::process_stdio{in_, out_, err_},
                      bp::process_environment(env), child_setup{});
      }
    } catch (const std::exception& e) {
      throw CodexError("failed to start `" + argv_[0] + "`: " + e.what());
    }
    // Drain stderr continuously into a bounded tail.
    auto tail = tail_;
    auto err = std::make_shared<asio::readable_pipe>(std::move(err_));
    err_holder_ = err;
    asio::co_spawn(
        ex_,
        [err, tail]() -> asio::awaitable<void> {
          char buf[4096];
          for (;;) {
            auto [ec, n] =
                co_await err->async_read_some(asio::buffer(buf), asio::as_tuple(use_awaitable));
            if (n) tail->add(std::string_view(buf, n));
            if (ec) break;
          }
          tail->flush();
        },
        asio::detached);
    co_return;
  }

  asio::awaitable<bool> read(MessageSink& sink) override {
    std::size_t avail = 0;
    char* p = framer_.prepare(64 * 1024, avail);
    auto [ec, n] =
        co_await out_.async_read_some(asio::buffer(p, avail), asio::as_tuple(use_awaitable));
    if (n) framer_.commit(n, sink);
    if (ec) {
      if (ec == asio::error::eof || ec == asio::error::operation_aborted ||
          ec == asio::error::bad_descriptor || ec == asio::error::broken_pipe)
        co_return false;
      throw boost::system::system_error(ec, "read from app-server stdout");
    }
    co_return true;
  }

  asio::awaitable<void> write(const std::vector<std::string>& messages) override {
    static constexpr char nl = '\n';
    bufs_.clear();
    bufs_.reserve(messages.size() * 2);
    for (auto& m : messages) {
      bufs_.emplace_back(m.data(), m.size());
      bufs_.emplace_back(&nl, 1);
    }
    auto [ec, n] = co_await asio::async_write(in_, bufs_, asio::as_tuple(use_awaitable));
    (void)n;
    if (ec) throw TransportClosedError("write to app-server stdin failed: " + ec.message());
  }

  asio::awaitable<void> shutdown(std::chrono::milliseconds grace) override {
    if (!proc_) co_return;
    boost::system::error_code ec;
    in_.close(ec);
    if (!exit_status_) {
      proc_->request_exit(ec);  // SIGTERM
      co_await wait_exit(grace);
    }
    if (!exit_status_) {
      proc_->terminate(ec);  // SIGKILL + reap
      record_exit(proc_->exit_code());
    }
    out_.close(ec);
  }

  asio::awaitable<void> wait_gone(std::chrono::milliseconds limit) override {
    co_await wait_exit(limit);
  }

  void kill() noexcept override {
    boost::system::error_code ec;
    if (proc_ && !exit_status_) {
      pid_t pid = proc_->id();
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        int status = 0;
        if (::waitpid(pid, &status, 0) == pid) {
          exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
      }
      proc_->detach();
    }
    in_.close(ec);
    out_.close(ec);
    if (err_holder_) err_holder_->close(ec);
  }

  std::optional<int> exit_status() const override { return exit_status_; }
  std::string stderr_tail() const override { return tail_->text(); }
  std::string describe() const override {
    std::string s;
    for (auto& a : argv_) {
      if (!s.empty()) s += ' ';
      s += a;
    }
    return s;
  }

 private:
  struct Tail {
    std::deque<std::string> lines;
    std::string partial;
    std::size_t max_lines = 400;
    void add(std::string_view data) {
      for (char c : data) {
        if (c == '\n') {
          push(std::move(partial));
          partial.clear();
        } else if (partial.size() < 4096) {
          partial.push_back(c);
        }
      }
    }
    void flush() {
      if (!partial.empty()) push(std::move(partial));
      partial.clear();
    }
    void push(std::string l) {
      lines.push_back(std::move(l));
      while (lines.size() > max_lines)
        lines.pop_front();
    }
    std::string text() const {
      std::string s;
      for (auto& l : lines) {
        s += l;
        s += '\n';
      }
      if (!partial.empty()) s += partial;
      return s;
    }
  };

  void record_exit(int native) {
    if (!exit_status_) exit_status_ = bp::evaluate_exit_code(native);
  }

  asio::awaitable<void> wait_exit(std::chrono::milliseconds limit) {
    if (!proc_ || exit_status_) co_return;
    // Poll the child without blocking the executor (waitpid WNOHANG), at most `limit`.
    asio::steady_timer t(ex_);
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::chrono::milliseconds step(1);
    for (;;) {
      int status = 0;
      pid_t r = ::waitpid(proc_->id(), &status, WNOHANG);
      if (r == proc_->id()) {
        exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        proc_->detach();
        co_return;
      }
      if (r < 0) co_return;
      if (std::chrono::steady_clock::now() >= deadline) co_return;
      t.expires_after(step);
      co_await t.async_wait(asio::as_tuple(use_awaitable));
      step = std::min(step * 2, std::chrono::milliseconds(50));
    }
  }

  std::vector<std::string> build_env() const {
    std::map<std::string, std::string> env;
    for (char** e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) continue;
      env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    for (auto& k : cfg_.env_remove)
      env.erase(k);
    for (auto& [k, v] : cfg_.env)
      env[k] = v;
    std::vector<std::string> out;
    out.reserve(env.size());
    for (auto& [k, v] : env)
      out.push_back(k + "=" + v);
    return out;
  }

  asio::any_io_executor ex_;
  CodexConfig cfg_;
  asio::writable_pipe in_;
  asio::readable_pipe out_;
  asio::readable_pipe err_;
  std::shared_ptr<asio::readable_pipe> err_holder_;
  asio::io_context launch_ctx_;  // only for the process handle (see open())
  std::optional<bp::process> proc_;
  std::optional<int> exit_status_;
  std::vector<std::string> argv_;
  detail::LineFramer framer_;
  std::vector<asio::const_buffer> bufs_;
  std::shared_ptr<Tail> tail_;
};

}  // namespace

std::string resolve_codex_bin(const CodexConfig& config) {
  if (config.codex_bin) {
    if (!is_executable(*config.codex_bin))
      throw CodexError("Codex binary not found at " + *config.codex_bin +
                       ". Set CodexConfig::codex_bin to a valid executable path.");
    return *config.codex_bin;
  }
  if (const char* b = std::getenv("CODEX_BIN"); b && *b) {
    if (!is_executable(b))
      throw CodexError(std::string("Codex binary not found at ") + b +
                       " (from the CODEX_BIN environment variable).");
    return b;
  }
  if (auto p = find_pinned_install()) return *p;
  if (auto p = find_on_path("codex")) return *p;
  throw CodexError(
      "Codex CLI not found: set CodexConfig::codex_bin or CODEX_BIN, run scripts/setup.sh to "
      "install the pinned @openai/codex@" +
      std::string(pinned_cli_version) + " into .codex-cli/, or put `codex` on PATH.");
}

std::vector<std::string> build_launch_args(const CodexConfig& config) {
  if (!config.launch_args_override.empty()) return config.launch_args_override;
  std::vector<std::string> argv{resolve_codex_bin(config)};
  for (auto& kv : config.config_overrides) {
    argv.emplace_back("--config");
    argv.push_back(kv);
  }
  argv.emplace_back("app-server");
  argv.emplace_back("--listen");
  argv.emplace_back("stdio://");
  return argv;
}

std::unique_ptr<Transport> make_stdio_transport(asio::any_io_executor executor,
                                                const CodexConfig& config) {
  return std::make_unique<StdioTransport>(std::move(executor), config);
}

}  // namespace codex
