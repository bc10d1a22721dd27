// hashvec.cpp — the engine's hashes of given inputs under given key material,
// for tests/core/test_engine_hash.py to compare with Go's own runtime.
//
//   engine_hashvec < vectors
//
// The first line of input is the key material: "AES SCHED K0 K1 K2 K3", where
// AES is 1 to take the AES path (if this CPU can), SCHED is aeskeysched's 128
// bytes in hex and K0..K3 are hashkey's words in decimal. Every other line is
// "FN DATA SEED": one of memhash, strhash, memhash64, memhash32, f64hash,
// f32hash (the path the key material chose) or memhashFallback,
// memhash64Fallback, memhash32Fallback (the portable path whatever the CPU);
// DATA is the key's bytes in hex ("-" for none) and SEED is decimal. Each
// gets one line out: the hash in decimal, or "?" for a function this program
// does not know. Each key is copied to a heap block of exactly its size (at
// offset len % 16, as tests/go/hashvec places them), so that a sanitizer
// build catches a read past its end.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gomap/hash.h"
#include "gomap/string.h"

namespace {

std::vector<std::uint8_t> fromHex(const std::string& s) {
  std::vector<std::uint8_t> out;
  if (s == "-") return out;
  for (std::size_t i = 0; i + 1 < s.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoul(s.substr(i, 2), nullptr, 16)));
  return out;
}

}  // namespace

int main() {
  std::string line;
  if (!std::getline(std::cin, line)) return 2;
  int aes = 0;
  std::string schedHex;
  std::uintptr_t keys[4];
  std::vector<std::uint8_t> sched;
  {
    std::istringstream in(line);
    in >> aes >> schedHex >> keys[0] >> keys[1] >> keys[2] >> keys[3];
    sched = fromHex(schedHex);
    if (!in || sched.size() != 128) {
      std::fprintf(stderr, "engine_hashvec: bad key line\n");
      return 2;
    }
    gomap::set_hash_keys(aes != 0, sched.data(), keys);
  }
  const bool aesPath = gomap::useAeshash;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string fn, hex;
    std::uint64_t seed = 0;
    if (!(in >> fn >> hex >> seed)) continue;
    const auto data = fromHex(hex);
    const std::size_t n = data.size(), off = n % 16;
    std::unique_ptr<std::uint8_t[]> block(new std::uint8_t[off + n]);
    std::uint8_t* p = block.get() + off;
    if (n) std::memcpy(p, data.data(), n);
    const bool fallback = fn.size() > 8 && fn.compare(fn.size() - 8, 8, "Fallback") == 0;
    if (fallback) gomap::set_hash_keys(false, sched.data(), keys);
    std::uint64_t h = 0;
    bool known = true;
    if (fn == "memhash" || fn == "memhashFallback") h = gomap::memhash(p, n, seed);
    else if (fn == "strhash") {
      gomap::String s{p, static_cast<std::int64_t>(n)};
      h = gomap::strhash(&s, seed);
    } else if ((fn == "memhash64" || fn == "memhash64Fallback") && n == 8) h = gomap::memhash64(p, seed);
    else if ((fn == "memhash32" || fn == "memhash32Fallback") && n == 4) h = gomap::memhash32(p, seed);
    else if (fn == "f64hash" && n == 8) h = gomap::f64hash(p, seed);
    else if (fn == "f32hash" && n == 4) h = gomap::f32hash(p, seed);
    else known = false;
    if (fallback) gomap::set_hash_keys(aesPath, sched.data(), keys);
    if (known) std::printf("%llu\n", static_cast<unsigned long long>(h));
    else std::printf("?\n");
  }
  return 0;
}
