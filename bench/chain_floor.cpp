// chain_floor.cpp — how fast can a shuffled string lookup be, on this machine?
//
// A lookup of keys[order[j]] in a map[string]uint64 of 1M entries makes three
// reads at random places, each waiting on the one before: the key's header
// (pointer, length) in the keys slice, the key's bytes (to hash them), and
// the bucket the hash names (208 bytes: tophash, key headers, values). Go
// 1.19 makes the same three; so does the engine. This program times the
// engine's lookups against "floor": the same three reads, into the same
// memory (the engine map's own bucket array), with no map logic at all —
// one multiply for a hash, no tophash match, no key compare, no checks. The
// floor is what any Go-layout map pays for the memory alone. A third loop
// makes the same reads with the engine's real string hash (Go's aeshash: for
// a 17-32 byte key, two lanes of three AESENC rounds): the bucket's address
// waits on it, and a longer wait per lookup means fewer lookups' misses in
// flight at once. (With the engine's earlier multiply hash, three multiplies
// each waiting on the one before, this loop took 91 ms against aeshash's
// 44-52 ms.)
//
//   chain_floor [N] [REPS]   (default 1000000 keys, 9 reps; medians, CPU time)
//
// It prints both times and their ratio. Read them beside the Go peer's time
// for the same cell (bench/run.sh's table, or build/bench/gobench -only
// lookup_shuffled -sizes 1000 -str-sizes N).
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "gomap/map.h"
#include "gomap/hash_inline.h"
#include "gomap/string.h"
#include "workload.h"

using gomap::alg::load64;

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1000000;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 9;
  if (n < 1000 || reps < 1) {
    std::fprintf(stderr, "usage: chain_floor [N >= 1000] [REPS >= 1]\n");
    return 2;
  }
  bench::Vec<gomap::String> keys;
  keys.reserve(n);
  for (const auto& s : bench::string_keys(n)) keys.push_back(gomap::String::make(s));
  const auto order = bench::shuffled_order(n);
  auto m = gomap::Map<gomap::String, std::uint64_t>::make();
  for (std::size_t i = 0; i < n; i++) m.set(keys[i], bench::value_for(i));
  const gomap::hmap* h = m.header();
  const auto* buckets = static_cast<const std::uint8_t*>(h->buckets);
  const std::uint64_t mask = (std::uint64_t{1} << h->B) - 1;
  const std::size_t bucketsize = gomap::Map<gomap::String, std::uint64_t>::type()->bucketsize;

  std::vector<double> engine, floor, hashed;
  std::uint64_t sinkE = 0, sinkF = 0;
  for (int r = 0; r < reps; r++) {
    double t0 = bench::cpu_ns();
    std::uint64_t acc = 0;
    for (std::size_t j = 0; j < n; j++) acc = bench::fold_lookup(acc, m.get(keys[order[j]]));
    double t1 = bench::cpu_ns();
    sinkE ^= acc;
    acc = 0;
    for (std::size_t j = 0; j < n; j++) {
      const gomap::String& k = keys[order[j]];                                        // read 1: the header
      const std::uint64_t w = (k.len >= 8 ? load64(k.str + k.len - 8) : k.str[0]) ^ static_cast<std::uint64_t>(k.len);  // read 2: the bytes
      const std::uint8_t* b = buckets + ((w * 0x9E3779B97F4A7C15ull) >> 7 & mask) * bucketsize;
      acc = bench::fold_lookup(acc, load64(b) + load64(b + 136));                       // read 3: the bucket
    }
    double t2 = bench::cpu_ns();
    sinkF ^= acc;
    acc = 0;
    for (std::size_t j = 0; j < n; j++) {  // the same, hashed as the engine hashes
      const gomap::String& k = keys[order[j]];
      const std::uint64_t hash = gomap::alg::memhashInline(k.str, static_cast<std::size_t>(k.len), h->hash0);
      const std::uint8_t* b = buckets + (hash & mask) * bucketsize;
      acc = bench::fold_lookup(acc, load64(b) + load64(b + 136));
    }
    double t3 = bench::cpu_ns();
    sinkF ^= acc;
    engine.push_back(t1 - t0);
    floor.push_back(t2 - t1);
    hashed.push_back(t3 - t2);
  }
  std::printf("n=%zu B=%u reps=%d\n", n, unsigned{h->B}, reps);
  std::printf("engine lookups, shuffled:        %8.1f ms\n", bench::median(engine) / 1e6);
  std::printf("floor (the three reads alone):   %8.1f ms\n", bench::median(floor) / 1e6);
  std::printf("floor, with the engine's hash:   %8.1f ms\n", bench::median(hashed) / 1e6);
  std::printf("engine / floor:                  %8.2f\n", bench::median(engine) / bench::median(floor));
  std::fprintf(stderr, "(checksums %llx %llx)\n", static_cast<unsigned long long>(sinkE),
               static_cast<unsigned long long>(sinkF));
  m.drop();
  return 0;
}
