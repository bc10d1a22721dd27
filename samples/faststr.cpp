// faststr — the specialised paths for string keys: mapassign_faststr,
// mapaccess1_faststr/mapaccess2_faststr, mapdelete_faststr.
//
// A Go string is {str, len}; the _faststr variants take it by value (str in
// RDX, len in RCX at mapassign_faststr's entry). To find a key they compare
// lengths first and only then the bytes, so keys of equal length are the ones
// that cost a memcmp. The keys below mix lengths on purpose: "k0".."k9" (2
// bytes), "k10".."k99" (3 bytes), and a few long ones.
//
// Checkpoints: "before-loop", "after-loop", "after-update" (a key set twice
// keeps one cell: the value changes, len does not), "after-delete", "done".
#include <string>

#include "common.h"

int main(int argc, char** argv) {
  samples::Cli cli("faststr", "Insert, update, look up and delete string keys through the "
                              "_faststr paths.");
  cli.keys(20).hint().dump();
  const samples::Common& o = cli.parse(argc, argv);

  auto m = gomap::Map<gomap::String, std::int64_t>::make(o.hint);
  std::printf("faststr: map[string]int64, %lld keys, hint %lld\n", (long long)o.keys,
              (long long)o.hint);
  CHECKPOINT("before-loop", m);

  for (std::int64_t i = 0; i < o.keys; ++i) {
    gomap::String key = gomap::String::make("k" + std::to_string(i));
    m.set(key, i);  // mapassign_faststr(t, h, key): key.str in RDX, key.len in RCX
  }
  m.set(gomap::String::make("a rather longer key, 40 bytes in all...."), -1);
  std::printf("inserted: len %lld, B %d\n", (long long)m.len(), m.header()->B);
  CHECKPOINT("after-loop", m);

  m.set(gomap::String::make("k0"), 100);  // same bytes, another pointer: found by content
  std::printf("updated k0: m[\"k0\"] = %lld, len %lld\n",
              (long long)m.get(gomap::String::make("k0")), (long long)m.len());
  CHECKPOINT("after-update", m);

  auto [v, ok] = m.lookup(gomap::String::make("k"));  // a prefix of every key: not a key
  std::printf("lookup \"k\": ok=%s v=%lld\n", ok ? "true" : "false", (long long)v);

  m.erase(gomap::String::make("k1"));
  m.erase(gomap::String::make("no such key"));  // deleting an absent key is a no-op
  std::printf("deleted k1: len %lld\n", (long long)m.len());
  CHECKPOINT("after-delete", m);

  std::printf("%s\n", samples::describe(m.header()).c_str());
  CHECKPOINT("done", m);
}
