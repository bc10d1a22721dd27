// fast64 — the specialised paths for 8-byte keys: mapassign_fast64,
// mapaccess1_fast64/mapaccess2_fast64, mapdelete_fast64.
//
// For a key of exactly 8 bytes (and an elem of at most 128) Go's compiler calls
// the _fast64 variants: the key is passed by value in a register and compared
// with one 64-bit compare instead of through the type's equal function, and on
// insert only the tophash byte and the key are written. Step through the loop
// with `break mapassign_fast64` to watch that happen.
//
// Checkpoints: "before-loop" (empty map), "after-loop" (all keys in),
// "after-delete" (every third key deleted: emptyOne / emptyRest cells),
// "done".
#include "common.h"

int main(int argc, char** argv) {
  samples::Cli cli("fast64", "Insert, look up and delete uint64 keys through the _fast64 paths.");
  cli.keys(20).hint().dump();
  const samples::Common& o = cli.parse(argc, argv);

  auto m = gomap::Map<std::uint64_t, std::int64_t>::make(o.hint);
  std::printf("fast64: map[uint64]int64, %lld keys, hint %lld\n", (long long)o.keys,
              (long long)o.hint);
  CHECKPOINT("before-loop", m);

  for (std::int64_t i = 0; i < o.keys; ++i) {
    std::uint64_t key = std::uint64_t(i) * 1000;
    m.set(key, i);  // mapassign_fast64(t, h, key): key in RDX
  }
  std::printf("inserted: len %lld, B %d\n", (long long)m.len(), m.header()->B);
  CHECKPOINT("after-loop", m);

  std::int64_t found = 0, missing = 0;
  for (std::int64_t i = 0; i < o.keys; ++i) {
    auto [v, ok] = m.lookup(std::uint64_t(i) * 1000 + (i % 2));  // odd i: a key never set
    ok ? (found += (v == i)) : ++missing;
  }
  std::printf("lookups: %lld found with the right value, %lld absent\n", (long long)found,
              (long long)missing);

  std::int64_t deleted = 0;
  for (std::int64_t i = 0; i < o.keys; i += 3, ++deleted) m.erase(std::uint64_t(i) * 1000);
  std::printf("deleted every third key (%lld): len %lld\n", (long long)deleted,
              (long long)m.len());
  CHECKPOINT("after-delete", m);

  std::printf("%s\n", samples::describe(m.header()).c_str());
  CHECKPOINT("done", m);
}
