// fuzz_ops.h — one random operation sequence against a gomap::Map and a
// std::unordered_map model; shared by the doctest fuzz test and the libFuzzer
// target. Returns an empty string, or what diverged.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gomap/heap.h"
#include "gomap/map.h"

namespace gf {

struct Key136 {
  std::uint64_t w[17];
  bool operator==(const Key136& o) const {
    for (int i = 0; i < 17; i++)
      if (w[i] != o.w[i]) return false;
    return true;
  }
};

// How a fuzz key type is made from a small integer, and hashed for the model.
template <class K> struct KeyOps;
template <> struct KeyOps<std::uint64_t> {
  static std::uint64_t make(std::uint64_t v) { return v * 0x9e3779b97f4a7c15ULL; }
  static std::uint64_t id(const std::uint64_t& k) { return k * 0xf1de83e19937733dULL; }  // inverse multiplier
};
template <> struct KeyOps<gomap::String> {
  static gomap::String make(std::uint64_t v) {
    // Lengths vary around the faststr thresholds (4 bytes, 32 bytes).
    std::string s = std::to_string(v);
    if (v % 3 == 0) s = std::string(30, 'p') + s;
    if (v % 5 == 0) s += "-suffix";
    return gomap::String::make(s);
  }
};
template <> struct KeyOps<Key136> {
  static Key136 make(std::uint64_t v) {
    Key136 k{};  // w[0] alone makes keys distinct; the rest spreads the bytes
    k.w[0] = v + 1;
    k.w[1 + v % 15] = ~v;
    k.w[16] = v * 3;
    return k;
  }
};

// Random source: a byte stream (libFuzzer) or a PRNG (doctest).
struct Source {
  std::function<std::uint64_t()> next;
  std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }
};

constexpr std::uint64_t kMaxRange = 2048;

// Keys for ids 0..kMaxRange-1, made once (String::make copies into an
// immortal arena, so keys are not remade per operation).
template <class K>
const std::vector<K>& keyTable() {
  static const std::vector<K> table = [] {
    std::vector<K> t;
    for (std::uint64_t i = 0; i < kMaxRange; i++) t.push_back(KeyOps<K>::make(i));
    return t;
  }();
  return table;
}

// Runs `ops` operations; keys drawn from [0, range) where range shifts with
// the phase so that maps grow, shrink, churn and are cleared. Every value
// carries its key's id in the low 12 bits, so iteration can name the key.
template <class K>
std::string runOps(Source& src, std::uint64_t ops, bool checkEveryOp) {
  using M = gomap::Map<K, std::uint64_t>;
  const std::vector<K>& keys = keyTable<K>();
  M m = M::make(static_cast<std::int64_t>(src.below(3) == 0 ? src.below(300) : 0));
  std::unordered_map<std::uint64_t, std::uint64_t> model;  // key id -> value
  auto fail = [&](const std::string& what, std::uint64_t op) {
    m.drop();
    return "op " + std::to_string(op) + ": " + what;
  };
  auto valueFor = [&](std::uint64_t id) { return (src.next() << 12) | id; };
  std::uint64_t range = 64;
  for (std::uint64_t op = 0; op < ops; op++) {
    if (op % 4096 == 0) range = std::uint64_t{8} << src.below(9);  // 8 .. 2048 keys
    std::uint64_t id = src.below(range);
    const K& key = keys[id];
    std::uint64_t what = src.below(100);
    if (what < 45) {
      std::uint64_t v = valueFor(id);
      m.set(key, v);
      model[id] = v;
    } else if (what < 75) {
      m.erase(key);
      model.erase(id);
    } else if (what < 95) {
      auto [v, ok] = m.lookup(key);
      auto it = model.find(id);
      if (ok != (it != model.end())) return fail("lookup presence differs for key " + std::to_string(id), op);
      if (ok && v != it->second) return fail("lookup value differs for key " + std::to_string(id), op);
      if (!ok && v != 0) return fail("absent key did not read as zero", op);
    } else if (what < 98) {
      // Iterate, mutating on the way: entries present throughout must be
      // produced exactly once; deleted ones before they are reached never.
      std::unordered_map<std::uint64_t, std::uint64_t> before = model;
      std::unordered_set<std::uint64_t> seen, deleted;
      bool mutate = src.below(2) == 0;
      for (auto it = m.begin(); it != m.end(); ++it) {
        auto kv = *it;
        std::uint64_t kid = kv.second & (kMaxRange - 1);
        if (!(kv.first == keys[kid])) return fail("iteration produced a key that does not match its value", op);
        if (!seen.insert(kid).second) return fail("iteration produced a key twice", op);
        if (deleted.count(kid)) return fail("iteration produced a key deleted before it was reached", op);
        auto mv = model.find(kid);
        if (mv == model.end() || mv->second != kv.second) return fail("iteration value differs", op);
        if (mutate) {
          std::uint64_t other = src.below(range);
          if (src.below(2) == 0) {
            if (!seen.count(other)) {
              m.erase(keys[other]);
              if (model.erase(other)) deleted.insert(other);
            }
          } else if (!model.count(other) && !deleted.count(other)) {
            std::uint64_t v = valueFor(other);
            m.set(keys[other], v);
            model[other] = v;
          }
        }
      }
      for (auto& [kid, _] : before)
        if (!deleted.count(kid) && !seen.count(kid)) return fail("iteration missed a key present throughout", op);
    } else if (what < 99) {
      m.clear();
      model.clear();
    } else {
      gomap::gc();
    }
    if (static_cast<std::uint64_t>(m.len()) != model.size()) return fail("len differs", op);
    if (checkEveryOp || op % 64 == 0) {
      std::string err = gomap::check_invariants(m.type(), m.header());
      if (!err.empty()) return fail("invariant: " + err, op);
    }
  }
  for (auto& [kid, v] : model) {
    auto [got, ok] = m.lookup(keys[kid]);
    if (!ok || got != v) return fail("final lookup differs", ops);
  }
  m.drop();
  return {};
}

}  // namespace gf
