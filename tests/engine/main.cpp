// main.cpp — doctest runner for the engine tests.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "gomap/runtime.h"

int main(int argc, char** argv) {
  // Every write is followed by check_invariants in debug builds when
  // GOMAP_CHECK=1 (CTest sets it); release builds compile the hook out.
  doctest::Context ctx(argc, argv);
  return ctx.run();
}
