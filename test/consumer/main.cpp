// Built against an installed codex-cpp: checks that the headers and the exported target work.
// It runs no server: it builds a config and the wire form of an input, and exits 0.
#include <codex/codex.hpp>

#include <iostream>

int main() {
  codex::CodexConfig cfg;
  cfg.launch_args_override = {"/bin/false"};
  codex::Input input("hello");
  auto wire = input.to_wire();
  std::cout << "consumer ok: " << codex::version_string << " " << wire.size() << "\n";
  return wire.size() == 1 ? 0 : 1;
}
