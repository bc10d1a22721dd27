// churn — a sliding window of inserts and deletes: same-size grows.
//
// Step s inserts key s and deletes key s - window, so len(m) stays at the
// window size and the map never needs more buckets. But deleting only marks a
// cell emptyOne; overflow buckets taken while a bucket was briefly full stay on
// its chain. When noverflow reaches 2^B (tooManyOverflowBuckets), the next
// insert starts a *same-size* grow: a new array of the same 2^B buckets, with
// flag sameSizeGrow, into which evacuation repacks the live entries, leaving
// the overflow chains behind.
//
// Checkpoints: "same-size-grow-start" (each one; flags has sameSizeGrow = 8,
// oldbuckets is the array being cleaned up), "same-size-grow-done", "done".
#include "common.h"

int main(int argc, char** argv) {
  std::int64_t window = 50, steps = 5000;
  samples::Cli cli("churn", "Insert key s and delete key s-window for each step s; watch the "
                            "same-size grows.");
  cli.hint().dump();
  cli.desc().add_options()
      ("window", samples::po::value(&window)->default_value(window), "live keys at any time")
      ("steps", samples::po::value(&steps)->default_value(steps), "inserts (each with a delete)");
  const samples::Common& o = cli.parse(argc, argv);
  if (window < 1 || steps < 0) {
    std::fprintf(stderr, "churn: --window must be at least 1 and --steps not negative\n");
    return 2;
  }

  auto m = gomap::Map<std::uint64_t, std::int64_t>::make(o.hint);
  const gomap::hmap* h = m.header();
  std::printf("churn: window %lld, %lld steps\n", (long long)window, (long long)steps);
  int same_size = 0, doubling = 0;
  bool same_size_running = false;
  for (std::int64_t s = 0; s < steps; ++s) {
    void* buckets = h->buckets;
    std::uint8_t B = h->B;
    std::uint16_t noverflow = h->noverflow;
    bool was_growing = h->oldbuckets != nullptr;

    m.set(std::uint64_t(s), s);
    if (s >= window) m.erase(std::uint64_t(s - window));

    // hashGrow always allocates a new array, so a new buckets pointer is a grow.
    if (buckets != nullptr && h->buckets != buckets && !was_growing) {
      if (h->B == B) {
        ++same_size;
        same_size_running = h->oldbuckets != nullptr;
        std::printf("step %lld: same-size grow at B=%d, noverflow was %u\n", (long long)s, B,
                    noverflow);
        CHECKPOINT("same-size-grow-start", m);
      } else {
        ++doubling;
        std::printf("step %lld: doubling grow, B %d -> %d\n", (long long)s, B, h->B);
      }
    }
    if (same_size_running && h->oldbuckets == nullptr) {
      same_size_running = false;
      CHECKPOINT("same-size-grow-done", m);
    }
  }
  std::printf("len %lld, B %d, noverflow %u\n", (long long)m.len(), h->B, h->noverflow);
  std::printf("doubling grows: %d, same-size grows: %d\n", doubling, same_size);
  CHECKPOINT("done", m);
}
