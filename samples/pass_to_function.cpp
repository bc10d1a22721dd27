// pass_to_function — a map value is a pointer to its hmap.
//
// Passing a map to a function copies that pointer: the function's writes and
// deletes go to the caller's hmap. Assigning a new map to the parameter only
// repoints the function's copy; the caller never sees it. To replace the
// caller's map, pass a pointer to the map variable (*map[K]V).
//
// Checkpoints: "before-call", "in-modify" (the parameter m and the caller's
// m hold the same hmap address), "in-modify-reassigned" (the parameter now
// points at a new hmap), "after-call", "in-replace", "after-replace", "done".
#include "common.h"

namespace {

using Map = gomap::Map<gomap::String, std::int64_t>;
gomap::String s(const char* text) { return gomap::String::make(text); }

void print(const char* who, const Map& m) {
  std::printf("%-22s hmap %s len %lld:", who, samples::hex(m.header()).c_str(),
              (long long)m.len());
  for (const char* k : {"a", "b", "c", "z"}) {
    auto [v, ok] = m.lookup(s(k));
    if (ok) std::printf(" %s=%lld", k, (long long)v);
  }
  std::printf("\n");
}

void modify(Map m) {  // func modify(m map[string]int64)
  m.set(s("a"), 100);  // seen by the caller
  m.erase(s("b"));     // seen by the caller
  print("modify: after writes", m);
  CHECKPOINT("in-modify", m);
  m = Map::make();  // m = make(map[string]int64): only this copy changes
  m.set(s("c"), 3);
  print("modify: reassigned", m);
  CHECKPOINT("in-modify-reassigned", m);
}

void replace(Map* pm) {  // func replace(pm *map[string]int64)
  *pm = Map::make();     // *pm = make(map[string]int64): the caller's variable changes
  pm->set(s("z"), 26);
  CHECKPOINT("in-replace", *pm);
}

}  // namespace

int main(int argc, char** argv) {
  samples::Cli cli("pass_to_function",
                   "Pass a map to a function that writes, deletes and reassigns it; then "
                   "replace it through a pointer.");
  cli.dump();
  cli.parse(argc, argv);

  Map m = Map::make();
  m.set(s("a"), 1);
  m.set(s("b"), 2);
  print("main: before", m);
  CHECKPOINT("before-call", m);

  modify(m);
  print("main: after modify", m);
  CHECKPOINT("after-call", m);

  replace(&m);
  print("main: after replace", m);
  CHECKPOINT("after-replace", m);
  checkpoint("done");
}
