// iterate — why a Go range loop has no order, and what it promises anyway.
//
// mapiterinit picks a random start bucket and a random offset inside buckets,
// so two loops over the same, unchanged map usually disagree on the order.
// What Go promises: each entry present for the whole loop is produced exactly
// once, even if the map is growing (the iterator reads a not-yet-evacuated old
// bucket instead of the new one and keeps only the keys that belong to the new
// bucket it is visiting), and an entry deleted before the loop reaches it is
// not produced.
//
// Checkpoints: "first-order", "second-order" (after each loop over m),
// "mid-grow" (g has oldbuckets set, before looping over it), "in-grow-loop"
// (inside that loop, at its first entry: `hiter` is the loop's Go iterator
// state), "after-grow-loop", "after-delete-loop", "done".
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common.h"

namespace {

template <class K, class V>
std::vector<std::string> order_of(const gomap::Map<K, V>& m) {
  std::vector<std::string> keys;
  for (auto [k, v] : m) keys.push_back(samples::json_of(k));
  return keys;
}

void print_order(const char* label, const std::vector<std::string>& keys) {
  std::string line;
  for (const auto& k : keys) line += " " + k;
  std::printf("%s:%s\n", label, line.c_str());
}

template <class K>
void run(const samples::Common& o) {
  using Map = gomap::Map<K, std::int64_t>;

  // 1. Two loops over the same map.
  auto m = Map::make(o.hint);
  for (std::int64_t i = 0; i < o.keys; ++i) m.set(samples::key_of<K>(i), i);
  auto first = order_of(m);
  print_order("first order ", first);
  CHECKPOINT("first-order", m);
  // The start is random, so an unlucky draw repeats the order: draw again
  // (each try is another mapiterinit, another random start).
  auto second = order_of(m);
  for (int tries = 1; second == first && tries < 10; ++tries) second = order_of(m);
  print_order("second order", second);
  CHECKPOINT("second-order", m);
  std::printf("same order twice: %s; same keys: %s\n", first == second ? "yes" : "no",
              std::set(first.begin(), first.end()) == std::set(second.begin(), second.end())
                  ? "yes"
                  : "no");

  // 2. A loop that runs while the map is growing. Insert until hashGrow has
  // run and left old buckets to evacuate (from B = 2 on, a grow outlives the
  // insert that started it).
  auto g = Map::make();
  std::int64_t n = 0;
  while (g.header()->oldbuckets == nullptr || g.header()->B < 3)
    g.set(samples::key_of<K>(n), n), ++n;
  std::printf("g is growing: %s\n", samples::describe(g.header()).c_str());
  CHECKPOINT("mid-grow", g);
  std::set<std::string> seen;
  std::int64_t produced = 0;
  for (auto it = g.begin(); it != g.end(); ++it) {
    const gomap::hiter* hiter = it.raw();  // Go's iterator state, to look at in a debugger
    (void)hiter;
    if (produced++ == 0) CHECKPOINT("in-grow-loop", g);
    seen.insert(samples::json_of((*it).first));
  }
  std::printf("loop during the grow: %lld entries produced, %zu distinct, len %lld\n",
              (long long)produced, seen.size(), (long long)g.len());
  CHECKPOINT("after-grow-loop", g);

  // 3. Deleting during a loop: the current key is fine to delete, and a key
  // deleted before the loop reaches it is never produced.
  std::int64_t visited = 0, deleted_ahead = 0;
  std::set<std::string> gone;
  for (auto [k, v] : m) {
    if (gone.count(samples::json_of(k))) {
      std::printf("BUG: produced a key deleted earlier: %s\n", samples::json_of(k).c_str());
    }
    ++visited;
    m.erase(k);  // the current entry
    // and the entry with the next index, if the loop has not reached it yet
    K ahead = samples::key_of<K>((v + 1) % std::max<std::int64_t>(o.keys, 1));
    if (m.contains(ahead)) {
      m.erase(ahead);
      gone.insert(samples::json_of(ahead));
      ++deleted_ahead;
    }
  }
  std::printf("delete loop: visited %lld, deleted %lld ahead of the loop, %lld + %lld = %lld, "
              "len now %lld\n",
              (long long)visited, (long long)deleted_ahead, (long long)visited,
              (long long)deleted_ahead, (long long)(visited + deleted_ahead), (long long)m.len());
  CHECKPOINT("after-delete-loop", m);
  CHECKPOINT("done", m);
}

}  // namespace

int main(int argc, char** argv) {
  samples::Cli cli("iterate", "Loop over a map twice, during a grow, and while deleting.");
  cli.keys(12).hint().key_type().dump();
  const samples::Common& o = cli.parse(argc, argv);
  std::printf("iterate: %lld %s keys\n", (long long)o.keys, samples::key_type_name(o.key_type));
  samples::with_key_type(o.key_type, [&]<class K>() { run<K>(o); });
}
