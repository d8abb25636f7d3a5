// Copyright (c) codex-cpp authors. Licensed under the Apache License, Version 2.0.
//
// `readme_snippets`: the code the docs quote from samples/readme/ (tools/docs/snippets.py checks
// the quotes). Linking it checks that everything the quoted code uses exists. The functions are
// never called: with the default configuration they would use your real Codex login.
int main() {
  return 0;
}
