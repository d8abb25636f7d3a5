// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
// MethodName (Notification::method): the known names are shared, any other is held; and it reads
// like the std::string it replaced (the uses below all compiled with a std::string field).

#include <catch2/catch.hpp>

#include <codex/method_name.hpp>
#include <codex/results.hpp>
#include <codex/types/notifications.hpp>
#include <codex/types/server_requests.hpp>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

using codex::MethodName;

namespace {
// Made during static initialization, in whatever order it runs: the tables it reads are constant
// initialized (a client made by a static initializer reads them as early; the reliability test's
// child process does).
const MethodName kMadeAtStaticInit{std::string_view("turn/completed")};
}  // namespace

TEST_CASE("method name: a name made by a static initializer is known", "[method_name]") {
  CHECK(kMadeAtStaticInit.is_known());
  CHECK(kMadeAtStaticInit == "turn/completed");
}

TEST_CASE("method name: every schema method is known and shared", "[method_name]") {
  std::vector<std::string_view> all(std::begin(codex::types::known_notification_methods),
                                    std::end(codex::types::known_notification_methods));
  all.insert(all.end(), std::begin(codex::types::known_server_request_methods),
             std::end(codex::types::known_server_request_methods));
  REQUIRE(all.size() == 96);
  for (std::string_view m : all) {
    INFO(m);
    const MethodName a{m};
    const MethodName b{std::string(m)};
    CHECK(a.is_known());
    CHECK(a == m);
    CHECK(a.size() == m.size());
    CHECK(a.c_str() == b.c_str());  // one shared copy, not two
    CHECK(std::string_view(a.c_str()) == m);
  }
}

TEST_CASE("method name: another name is held, copied and moved", "[method_name]") {
  const std::string name = "vendor/someNotificationLongerThanSso";
  MethodName a{name};
  CHECK_FALSE(a.is_known());
  CHECK(a == name);
  MethodName b = a;
  CHECK(b == name);
  CHECK(b.c_str() != a.c_str());  // a copy of its own
  MethodName c = std::move(a);
  CHECK(c == name);
  CHECK(a.empty());  // NOLINT(bugprone-use-after-move): a moved-from name is empty
  a = std::move(c);
  CHECK(a == name);
  a = a;  // self-assignment keeps it
  CHECK(a == name);
  b = MethodName("turn/completed");  // an owned name replaced by a known one
  CHECK(b.is_known());
  CHECK(MethodName{std::string("short/x")} == "short/x");
}

TEST_CASE("method name: the empty name", "[method_name]") {
  const MethodName none;
  CHECK(none.empty());
  CHECK(none.str().empty());
  CHECK_FALSE(none.is_known());
  CHECK(none == "");
  CHECK(MethodName("").empty());
  CHECK(MethodName(static_cast<const char*>(nullptr)).empty());
  MethodName m = "turn/completed";
  m = {};
  CHECK(m.empty());
  CHECK(std::string(none.c_str()).empty());
}

TEST_CASE("method name: assignment from strings", "[method_name]") {
  MethodName m;
  const std::string s = "item/completed";
  m = s;
  CHECK(m.is_known());
  CHECK(m == s);
  m = std::string_view("thread/started");
  CHECK(m == "thread/started");
  std::string owned = "vendor/anotherLongNameOutsideTheSchema";
  m = std::move(owned);
  CHECK(m == "vendor/anotherLongNameOutsideTheSchema");
  m = "turn/started";
  CHECK(m.is_known());
}

TEST_CASE("method name: reads like a std::string", "[method_name]") {
  const MethodName m{std::string_view("item/agentMessage/delta")};
  const std::string s = "item/agentMessage/delta";

  SECTION("conversions") {
    const std::string& ref = m;
    CHECK(ref == s);
    std::string copy = m;
    CHECK(copy == s);
    std::string_view view = m;
    CHECK(view == s);
    CHECK(std::string(m) == s);
    // A name converts to a string, not the other way: a conditional is a std::string.
    std::string text = m.empty() ? std::string("x") : m;
    CHECK(text == s);
    std::string_view v2 = m.empty() ? std::string_view("x") : m;
    CHECK(v2 == s);
  }
  SECTION("containers of std::string") {
    std::map<std::string, int> counts;
    ++counts[m];
    ++counts[m];
    CHECK(counts.at(s) == 2);
    std::unordered_map<std::string, int> ucounts;
    ++ucounts[m];
    CHECK(ucounts.at(s) == 1);
    std::vector<std::string> names;
    names.push_back(m);
    names.emplace_back(m);
    CHECK(names == std::vector<std::string>{s, s});
    std::set<std::string> set{m};
    CHECK(set.count(s) == 1);
    std::unordered_set<std::string> uset;
    uset.insert(m);
    CHECK(uset.count(s) == 1);
  }
  SECTION("as a key itself") {
    std::unordered_map<MethodName, int> by_name;
    ++by_name[m];
    CHECK(by_name.at(m) == 1);
    CHECK(std::hash<MethodName>{}(m) == std::hash<std::string_view>{}(s));
    std::map<MethodName, int> ordered;
    ordered[m] = 1;
    ordered[MethodName("turn/completed")] = 2;
    CHECK(ordered.begin()->first == m);
  }
  SECTION("comparisons, both ways") {
    CHECK(m == "item/agentMessage/delta");
    CHECK("item/agentMessage/delta" == m);
    CHECK(m == s);
    CHECK(s == m);
    CHECK(m == std::string_view(s));
    CHECK(std::string_view(s) == m);
    CHECK(m == MethodName(s));
    CHECK(m != "turn/completed");
    CHECK(m < "turn/completed");
    CHECK(std::string("turn/completed") > m);
    CHECK(m.compare("item/") > 0);
  }
  SECTION("concatenation and output") {
    CHECK("event " + m == "event " + s);
    CHECK(m + " done" == s + " done");
    CHECK(std::string("a ") + m + '!' == "a " + s + "!");
    CHECK(m + std::string_view("?") == s + "?");
    CHECK('<' + m + '>' == "<" + s + ">");
    std::string line = "x";
    line += m;
    line.append(m);
    CHECK(line == "x" + s + s);
    std::ostringstream os;
    os << m;
    CHECK(os.str() == s);
  }
  SECTION("read-only members") {
    CHECK(m.size() == s.size());
    CHECK(m.length() == s.length());
    CHECK(m.starts_with("item/"));
    CHECK(m.starts_with('i'));
    CHECK(m.ends_with("/delta"));
    CHECK(m.find('/') == 4);
    CHECK(m.find("Message") == s.find("Message"));
    CHECK(m.rfind('/') == s.rfind('/'));
    CHECK(m.substr(5, 12) == "agentMessage");
    CHECK(m[0] == 'i');
    CHECK(m.at(1) == 't');
    CHECK_THROWS_AS(m.at(100), std::out_of_range);
    CHECK(std::string(m.begin(), m.end()) == s);
    CHECK(std::string(m.data(), m.size()) == s);
  }
}

TEST_CASE("method name: a Notification is built from a literal or a string", "[method_name]") {
  codex::Notification n{"turn/completed", {}, {}};
  CHECK(n.method.is_known());
  const std::string name = "item/started";
  codex::Notification m;
  m.method = name;
  CHECK(m.method == name);
  codex::Notification moved = std::move(m);
  CHECK(moved.method == "item/started");
}
