// copy_shares — `m2 := m1` copies the pointer, not the map.
//
// m1 and m2 then hold the same hmap address: a write through either is seen
// through both. A deep copy (a new map, filled by a loop; Go 1.21's
// maps.Clone) has its own hmap and buckets, and the two evolve apart.
//
// Checkpoints: "shared" (m1, m2 same hmap), "cloned" (m3 a different hmap),
// "diverged", "done".
#include "common.h"

namespace {

using Map = gomap::Map<gomap::String, std::int64_t>;
gomap::String s(const char* text) { return gomap::String::make(text); }

void print(const char* name, const Map& m) {
  std::printf("%s: hmap %s buckets %s len %lld\n", name, samples::hex(m.header()).c_str(),
              samples::hex(m.header()->buckets).c_str(), (long long)m.len());
}

}  // namespace

int main(int argc, char** argv) {
  samples::Cli cli("copy_shares", "Copy a map variable (shared hmap) and deep-copy a map.");
  cli.keys(5).dump();
  const samples::Common& o = cli.parse(argc, argv);

  Map m1 = Map::make();
  for (std::int64_t i = 0; i < o.keys; ++i) m1.set(samples::key_of<gomap::String>(i), i);

  Map m2 = m1;  // m2 := m1
  m2.set(s("shared"), 1);
  print("m1", m1);
  print("m2", m2);
  std::printf("m1 and m2 share the hmap: %s; m1[\"shared\"] = %lld\n",
              m1.header() == m2.header() ? "yes" : "no", (long long)m1.get(s("shared")));
  CHECKPOINT("shared", m1);

  Map m3 = m1.clone();  // a deep copy
  print("m3", m3);
  std::printf("m3 has its own hmap: %s\n", m3.header() != m1.header() ? "yes" : "no");
  CHECKPOINT("cloned", m3);

  m3.set(s("only-in-m3"), 3);
  m1.erase(s("shared"));
  std::printf("after m3[\"only-in-m3\"] = 3 and delete(m1, \"shared\"):\n");
  std::printf("  len(m1) = %lld, len(m2) = %lld, len(m3) = %lld; m1 has only-in-m3: %s, "
              "m3 has shared: %s\n",
              (long long)m1.len(), (long long)m2.len(), (long long)m3.len(),
              m1.contains(s("only-in-m3")) ? "yes" : "no", m3.contains(s("shared")) ? "yes" : "no");
  CHECKPOINT("diverged", m1);
  checkpoint("done");
}
