// grow — insert keys one by one and watch the map double.
//
// Go grows a map when the next insert would push the average bucket past 6.5
// entries (overLoadFactor): hashGrow allocates 2^(B+1) buckets, keeps the old
// array in oldbuckets, and every later write evacuates at most two old buckets
// (growWork). So a grow is not one event but a stretch of inserts, from the one
// that sets oldbuckets to the one that clears it.
//
// Checkpoints: "grow-start" (the insert that called hashGrow; oldbuckets is set
// unless the grow already finished, which happens while B <= 2), "mid-grow"
// (the first insert after that with the grow still running), "grow-done" (the
// insert that evacuated the last old bucket), and "done".
#include "common.h"

namespace {

template <class K>
void run(const samples::Common& o) {
  auto m = gomap::Map<K, std::int64_t>::make(o.hint);
  std::printf("grow: %lld %s keys into make(map, %lld)\n", (long long)o.keys,
              samples::key_type_name(o.key_type), (long long)o.hint);
  if (o.trace) std::printf("count\tB\tgrowing\tnevacuate\tnoverflow\tflags\n");

  bool mid_grow_shown = false;
  for (std::int64_t i = 0; i < o.keys; ++i) {
    const gomap::hmap* h = m.header();
    std::uint8_t oldB = h->B;
    bool was_growing = h->oldbuckets != nullptr;

    m.set(samples::key_of<K>(i), i);

    bool growing = h->oldbuckets != nullptr;
    if (o.trace)
      std::printf("%lld\t%d\t%d\t%llu\t%u\t%d\n", (long long)h->count, h->B, growing ? 1 : 0,
                  (unsigned long long)h->nevacuate, h->noverflow, h->flags);
    // A doubling grow changes B; a same-size grow only sets oldbuckets.
    if (h->B != oldB || (growing && !was_growing)) {
      if (!o.trace)
        std::printf("insert %lld: grow starts, B %d -> %d%s\n", (long long)h->count, oldB, h->B,
                    growing ? "" : " (and finishes in the same insert)");
      CHECKPOINT("grow-start", m);
      mid_grow_shown = false;
    } else if (growing && !mid_grow_shown) {
      CHECKPOINT("mid-grow", m);
      mid_grow_shown = true;
    }
    if (was_growing && !growing) {
      if (!o.trace) std::printf("insert %lld: grow done, B = %d\n", (long long)h->count, h->B);
      CHECKPOINT("grow-done", m);
    }
  }
  if (!o.trace) std::printf("%s\n", samples::describe(m.header()).c_str());
  CHECKPOINT("done", m);
}

}  // namespace

int main(int argc, char** argv) {
  samples::Cli cli("grow", "Insert keys one by one; stop at checkpoint when a grow starts, "
                           "mid-grow and when it finishes.");
  cli.keys(100).hint().key_type().dump().trace(
      "print `count B growing nevacuate noverflow flags` (tab-separated) after each insert");
  const samples::Common& o = cli.parse(argc, argv);
  samples::with_key_type(o.key_type, [&]<class K>() { run<K>(o); });
}
