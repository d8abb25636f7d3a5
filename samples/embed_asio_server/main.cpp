// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// embed_asio_server — Codex inside your own Asio program (C++ only).
//
// An HTTP endpoint built with Boost.Beast and an `AsyncCodex` share ONE io_context (and one OS
// thread): `GET /ask?q=<question>` starts an ephemeral thread, runs one turn and answers with
// its final response as text/plain. Each connection is its own coroutine, so requests are
// served concurrently while the client multiplexes their turns over one app-server connection.
//
//   embed_asio_server [--port 8080] [--requests N] [--self-test] [--online]
//     --port 0       pick a free port (printed)
//     --requests N   stop after N requests (default: serve until killed)
//     --self-test    ask two questions through a Beast HTTP client on the same io_context,
//                    print the answers and exit (the smoke test: --port 0 --requests 2)
//
//   curl 'http://127.0.0.1:8080/ask?q=What%20is%20the%20capital%20of%20France%3F'

#include <codex/codex.hpp>

#include "../common/sample_util.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <cctype>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace samples = codex::samples;
using asio::ip::tcp;
using namespace std::chrono_literals;
using codex::testing::Response;

// ---------------------------------------------------------------- URL helpers

std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::string url_decode(std::string_view s) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && nibble(s[i + 1]) >= 0 && nibble(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(nibble(s[i + 1]) * 16 + nibble(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

/// The decoded value of `name` in the target's query string.
std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name)
      return url_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- the server

/// Ends a connection.
///
/// This file uses plain `tcp::socket`s (no `beast::tcp_stream`) and only the throwing overloads
/// of `shutdown`/`close`: the scripted model server (codex_test_support, linked into every sample)
/// is compiled without BOOST_ASIO_NO_DEPRECATED, which codex::sdk sets for its users, and Asio's
/// `error_code&` overloads return a different type under that macro — two definitions of one
/// symbol in one program. See "Known issue" in samples/README.md.
void close_quietly(tcp::socket& socket) {
  try {
    socket.shutdown(tcp::socket::shutdown_send);
  } catch (const boost::system::system_error&) {
  }
}

struct Server {
  codex::AsyncCodex& codex;
  tcp::acceptor acceptor;
  int limit = 0;  // stop accepting after this many requests (0: never)
  int served = 0;
};

// snippet-begin: embed_asio_server_handler
/// Answers one request: a turn per `/ask?q=...` on an ephemeral thread.
asio::awaitable<http::response<http::string_body>> handle(
    codex::AsyncCodex& codex, const http::request<http::string_body>& req) {
  http::response<http::string_body> res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  const std::string_view target(req.target().data(), req.target().size());
  std::optional<std::string> question = query_param(target, "q");
  if (req.method() != http::verb::get || target.substr(0, target.find('?')) != "/ask" ||
      !question || question->empty()) {
    res.result(http::status::not_found);
    res.body() = "usage: GET /ask?q=<question>\n";
    co_return res;
  }
  try {
    codex::ThreadStartOptions options{.approval_mode = codex::ApprovalMode::deny_all,
                                      .ephemeral = true,
                                      .sandbox = codex::Sandbox::read_only};
    codex::AsyncThread thread = co_await codex.thread_start(std::move(options));
    codex::Input prompt(std::move(*question));
    codex::TurnResult result = co_await thread.run(std::move(prompt));
    res.body() = result.final_response.value_or("") + "\n";
  } catch (const codex::TurnFailedError& e) {
    res.result(http::status::bad_gateway);
    res.body() = "the turn failed: " + e.error().message + "\n";
  } catch (const codex::CodexError& e) {
    res.result(http::status::service_unavailable);
    res.body() = std::string("codex error: ") + e.what() + "\n";
  }
  co_return res;
}

/// One connection (HTTP/1.1 keep-alive: several requests may follow each other).
asio::awaitable<void> session(Server& server, tcp::socket socket) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> req;
    auto [read_ec, read_n] =
        co_await http::async_read(socket, buffer, req, asio::as_tuple(asio::use_awaitable));
    if (read_ec) break;  // closed by the peer
    http::response<http::string_body> res = co_await handle(server.codex, req);
    res.keep_alive(req.keep_alive());
    res.prepare_payload();
    auto [write_ec, write_n] =
        co_await http::async_write(socket, res, asio::as_tuple(asio::use_awaitable));
    if (++server.served == server.limit) server.acceptor.close();  // stops the accept loop
    if (write_ec || !res.keep_alive()) break;
  }
  close_quietly(socket);
}

asio::awaitable<void> accept_loop(Server& server) {
  for (;;) {
    auto [ec, socket] = co_await server.acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;  // the acceptor was closed
    asio::co_spawn(server.acceptor.get_executor(), session(server, std::move(socket)),
                   asio::detached);
  }
}
// snippet-end: embed_asio_server_handler

// ---------------------------------------------------------------- the self-test client

// snippet-begin: embed_asio_server_client
/// `GET /ask?q=<question>` with a Beast client; returns "<status> <body>".
asio::awaitable<std::string> ask(unsigned short port, std::string question) {
  auto executor = co_await asio::this_coro::executor;
  tcp::socket socket(executor);
  const tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
  co_await socket.async_connect(endpoint, asio::use_awaitable);
  http::request<http::empty_body> req{http::verb::get, "/ask?q=" + url_encode(question), 11};
  req.set(http::field::host, "127.0.0.1");
  req.keep_alive(false);
  co_await http::async_write(socket, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  co_await http::async_read(socket, buffer, res, asio::use_awaitable);
  close_quietly(socket);
  std::string body = res.body();
  while (!body.empty() && body.back() == '\n')
    body.pop_back();
  co_return std::to_string(res.result_int()) + " " + body;
}
// snippet-end: embed_asio_server_client

struct SelfTest {
  bool done = false;
  std::vector<std::string> answers;
  std::exception_ptr error;
};

asio::awaitable<void> self_test(Server& server, unsigned short port, SelfTest& out) {
  const std::array<std::string, 2> questions = {"What is the capital of France?", "What is 2 + 2?"};
  try {
    for (const std::string& question : questions) {
      std::cout << "question " << out.answers.size() + 1 << ": " << question << "\n";
      std::string answer = co_await ask(port, question);
      out.answers.push_back(answer);
      std::cout << "answer " << out.answers.size() << ": " << answer << "\n";
    }
  } catch (...) {
    out.error = std::current_exception();
    server.acceptor.close();  // do not wait for requests that will not come
  }
  out.done = true;
}

int run(samples::SampleEnv& env, unsigned short port, int limit, bool test) {
  env.script(Response::message("Paris.", {.deltas = 2}));
  env.script(Response::message("4.", {.deltas = 1}));

  // snippet-begin: embed_asio_server_main
  asio::io_context ioc;  // the program's own io_context: HTTP and Codex share it
  codex::AsyncCodex codex(ioc.get_executor(), env.config());
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  Server server{codex, std::move(acceptor), limit};
  const unsigned short bound = server.acceptor.local_endpoint().port();
  std::cout << "listening on http://127.0.0.1:" << bound << "/ask?q=..." << std::endl;

  std::exception_ptr failure;
  auto serve = [&]() -> asio::awaitable<void> {
    co_await codex.start();  // fail early when the server cannot start
    co_await accept_loop(server);
    co_await codex.close();  // after the last request (with --requests)
  };
  asio::co_spawn(ioc, serve(), [&](std::exception_ptr e) { failure = e; });
  SelfTest result;
  if (test) asio::co_spawn(ioc, self_test(server, bound, result), asio::detached);
  ioc.run();
  // snippet-end: embed_asio_server_main
  if (failure) std::rethrow_exception(failure);
  std::cout << "served " << server.served << " request(s)\n";
  if (test) {
    if (result.error) std::rethrow_exception(result.error);
    samples::check(result.done && result.answers.size() == 2, "two answers over HTTP");
    for (const auto& a : result.answers)
      samples::check(a.rfind("200 ", 0) == 0, "HTTP 200: " + a);
    if (!env.online())
      samples::check(result.answers[0] == "200 Paris." && result.answers[1] == "200 4.",
                     "the answers are the scripted model's");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto port = static_cast<unsigned short>(
      std::stoi(samples::flag_value(argc, argv, "--port").value_or("8080")));
  const int limit = std::stoi(samples::flag_value(argc, argv, "--requests").value_or("0"));
  const bool test = samples::has_flag(argc, argv, "--self-test");
  return samples::run_sample(argc, argv, "embed_asio_server", [&](samples::SampleEnv& env) {
    return run(env, port, test && limit == 0 ? 2 : limit, test);
  });
}
