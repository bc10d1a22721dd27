// test_fuzz.cpp — differential fuzz: random operation sequences against
// std::unordered_map, invariants checked as it goes.
//
// By default a bounded slice (a few seconds). For the full run:
//   GOMAP_FUZZ_OPS=3000000 build/debug/tests/engine_tests -tc='*differential*'
// (ops per key type; GOMAP_FUZZ_SEED picks the seed, default 1).
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>

#include "fuzz_ops.h"

namespace {

std::uint64_t envOr(const char* name, std::uint64_t dflt) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 10) : dflt;
}

template <class K>
void fuzzType(const char* name) {
  std::uint64_t total = envOr("GOMAP_FUZZ_OPS", 25000);
  std::uint64_t seed = envOr("GOMAP_FUZZ_SEED", 1);
  // Sequences of varying length, each on a fresh map.
  std::mt19937_64 rng(seed ^ std::hash<std::string>{}(name));
  gf::Source src{[&] { return rng(); }};
  std::uint64_t done = 0;
  int run = 0;
  while (done < total) {
    std::uint64_t len = 1000 + src.below(20000);
    if (len > total - done) len = total - done;
    CAPTURE(name);
    CAPTURE(run);
    std::string err = gf::runOps<K>(src, len, /*checkEveryOp=*/len < 5000);
    REQUIRE(err == "");
    done += len;
    run++;
  }
  gomap::gc();
}

}  // namespace

TEST_CASE("differential fuzz vs std::unordered_map: uint64 keys (fast64)") { fuzzType<std::uint64_t>("uint64"); }
TEST_CASE("differential fuzz vs std::unordered_map: string keys (faststr)") { fuzzType<gomap::String>("string"); }
TEST_CASE("differential fuzz vs std::unordered_map: 136-byte keys (generic, indirect)") {
  fuzzType<gf::Key136>("key136");
}
