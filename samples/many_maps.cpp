// many_maps — bucket memory over its lifetime: live, unreachable, freed.
//
// Every allocation the engine makes is recorded in gomap_heap_registry (heap.h).
// A finished grow leaves the old bucket array unreachable; dropping a map makes
// all its memory unreachable; a collection (gomap::gc) frees what is
// unreachable, unless an iterator can still reach it: an iterator started
// before a grow keeps reading the old array. The table printed at each step is
// this program's own count, record by record, of the registry: the ground truth
// for `gomap heap` in the debugger.
//
// Checkpoints: "created", "grown", "collected", "dropped", "pinned" (an
// iterator holds an old array: gc cannot free it), "unpinned" (the iterator is
// done and a gc freed it), "done".
//
// The registry's history is bounded: once freed memory leaves the 64 MiB
// quarantine and is handed out again, its record is kept only until more than
// --heap-history such records pile up (default 65536); then gc forgets the
// oldest and counts them. `--maps 2 --keys 1000000 --heap-history 1000` shows
// it: by "done" most overflow buckets' records are forgotten.
#include <vector>

#include "common.h"
#include "gomap/heap.h"

namespace {

using Map = gomap::Map<std::uint64_t, std::int64_t>;
static_assert(samples::complete_debug_types<std::uint64_t, std::int64_t>());

void step(const char* what, const char* title) {
  std::printf("\n== %s: %s\n", what, title);
  samples::print_heap_table();
  samples::ground_heap(what);
  checkpoint(what);
}

void fill(Map& m, std::int64_t from, std::int64_t to) {
  for (std::int64_t k = from; k < to; ++k) m.set(std::uint64_t(k), k);
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t nmaps = 8;
  std::int64_t history = static_cast<std::int64_t>(gomap::kHeapHistory);
  samples::Cli cli("many_maps", "Create, grow and drop maps, collect in between, and print the "
                                "heap registry's counts by state and role.");
  cli.keys(100).dump();
  cli.desc().add_options()("maps", samples::po::value(&nmaps)->default_value(nmaps),
                           "how many maps to create")(
      "heap-history", samples::po::value(&history)->default_value(history),
      "freed records whose memory was reused that the registry keeps before gc forgets the oldest");
  const samples::Common& o = cli.parse(argc, argv);
  if (nmaps < 1) {
    std::fprintf(stderr, "many_maps: --maps must be at least 1\n");
    return 2;
  }
  if (history < 0) {
    std::fprintf(stderr, "many_maps: --heap-history must not be negative\n");
    return 2;
  }
  gomap::heap_set_history(static_cast<std::size_t>(history));
  std::printf("many_maps: %lld maps, %lld keys each\n", (long long)nmaps, (long long)o.keys);

  std::vector<Map> maps;
  for (std::int64_t i = 0; i < nmaps; ++i) maps.push_back(Map::make(8));
  step("created", "make(map[uint64]int64, 8) each: an hmap; B = 0, no bucket until an insert");

  for (auto& m : maps) fill(m, 0, o.keys);
  step("grown", "keys inserted: each finished grow left its old array unreachable");

  std::printf("gc freed %zu allocations\n", gomap::gc());
  step("collected", "gomap::gc(): the unreachable arrays are freed (poisoned)");

  for (std::size_t i = 0; i < maps.size(); i += 2) maps[i].drop();
  step("dropped", "every other map dropped: its hmap and arrays are unreachable");
  std::printf("gc freed %zu allocations\n", gomap::gc());

  // An iterator that starts before a grow keeps the old array reachable.
  Map pinned = Map::make();
  fill(pinned, 0, 26);  // 26 entries in 4 buckets: the next insert doubles to 8
  {
    Map::iterator it = pinned.begin();
    fill(pinned, 26, 200);  // grows to B = 5 while `it` still points at the B = 2 array
    std::printf("gc freed %zu allocations\n", gomap::gc());
    step("pinned", "an active iterator holds the B=2 array: gc kept it unreachable");
  }  // the iterator ends here (mapiterdone)
  std::printf("gc freed %zu allocations\n", gomap::gc());
  step("unpinned", "the iterator is gone: gc freed the array it held");

  for (auto& m : maps) m.drop();
  pinned.drop();
  std::printf("gc freed %zu allocations\n", gomap::gc());
  step("done", "every map dropped and collected");
}
