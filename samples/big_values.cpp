// big_values — keys and elems over 128 bytes are stored out of line.
//
// A bucket holds 8 keys and 8 elems inline; with 136-byte keys and 200-byte
// elems that would be a 2.7 KiB bucket. Past maxKeySize/maxElemSize (128) Go
// stores a pointer in the slot instead (maptype flags indirectkey and
// indirectelem) and allocates each key and elem separately, so the bucket is
// 8 + 8*8 + 8*8 + 8 = 144 bytes, as for map[int64]int64. Such maps always take
// the generic mapassign (no fast path for indirect elems).
//
// Checkpoints: "filled", "after-delete", "done". At any of them, `up` and
// look at m.h->buckets->keys[0]: a BigKey*, not a BigKey.
#include "common.h"
#include "gomap/heap.h"

namespace {

std::uint64_t records_with_role(gomap::HeapRole role, const gomap::hmap* owner) {
  std::uint64_t n = 0;
  for (std::uint64_t i = 0; i < gomap_heap_registry.count; ++i) {
    const gomap::HeapRecord& r = gomap_heap_registry.records[i];
    n += r.role == role && r.state == gomap::HeapState::live &&
         r.owner == reinterpret_cast<std::uintptr_t>(owner);
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  samples::Cli cli("big_values", "A map whose 136-byte keys and 200-byte elems live out of line.");
  cli.keys(20).hint().dump();
  const samples::Common& o = cli.parse(argc, argv);

  using Map = gomap::Map<samples::BigKey, samples::BigValue>;
  const gomap::maptype* t = Map::type();
  std::printf("big_values: %s, sizeof key %zu, sizeof elem %zu\n", t->name,
              sizeof(samples::BigKey), sizeof(samples::BigValue));
  std::printf("slots: keysize %d, elemsize %d, bucketsize %d, indirectkey %s, indirectelem %s\n",
              t->keysize, t->elemsize, t->bucketsize, t->indirectkey() ? "yes" : "no",
              t->indirectelem() ? "yes" : "no");

  auto m = Map::make(o.hint);
  for (std::int64_t i = 0; i < o.keys; ++i) {
    samples::BigValue v{};
    v.id = std::uint64_t(i) * 10;
    m.set(samples::key_of<samples::BigKey>(i), v);  // mapassign: copies into new allocations
  }
  const gomap::hmap* h = m.header();
  std::printf("inserted %lld: len %lld, B %d; live indirect keys %llu, elems %llu\n",
              (long long)o.keys, (long long)m.len(), h->B,
              (unsigned long long)records_with_role(gomap::HeapRole::indirect_key, h),
              (unsigned long long)records_with_role(gomap::HeapRole::indirect_elem, h));
  if (o.keys > 0) {
    auto [v, ok] = m.lookup(samples::key_of<samples::BigKey>(o.keys - 1));
    std::printf("m[key %lld].id = %llu (ok=%s)\n", (long long)(o.keys - 1),
                (unsigned long long)v.id, ok ? "true" : "false");
  }
  CHECKPOINT("filled", m);

  for (std::int64_t i = 0; i < o.keys; i += 2) m.erase(samples::key_of<samples::BigKey>(i));
  std::printf("deleted the even keys: len %lld; live indirect keys %llu, elems %llu\n",
              (long long)m.len(),
              (unsigned long long)records_with_role(gomap::HeapRole::indirect_key, h),
              (unsigned long long)records_with_role(gomap::HeapRole::indirect_elem, h));
  CHECKPOINT("after-delete", m);

  std::printf("%s\n", samples::describe(h).c_str());
  CHECKPOINT("done", m);
}
