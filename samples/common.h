// common.h — what every sample shares: the checkpoint, option parsing, key
// makers, and the ground-truth printer that debugger tests compare against.
//
// Kept in one place so that each sample file reads as the situation it shows
// and nothing else.
#pragma once

#include <boost/program_options.hpp>

#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "gomap/abi.h"
#include "gomap/map.h"

// The place to stop: `break checkpoint` in gdb, `b checkpoint` in lldb; `up`
// then shows the sample's own frame, with its map in scope. C linkage so the
// symbol is plain `checkpoint` in both debuggers; never inlined or elided.
extern "C" void checkpoint(const char* what);
// How many times checkpoint has been called: `break checkpoint if checkpoint_count == 3`.
extern "C" volatile long checkpoint_count;

namespace samples {

namespace po = boost::program_options;

// A key over 128 bytes: Go stores it out of line (indirectkey), so the bucket
// slot holds a pointer. `id` is the field the ground truth prints.
struct BigKey {
  std::uint64_t id;
  std::uint8_t payload[128];
};
static_assert(sizeof(BigKey) == 136);

// An elem over 128 bytes (indirectelem).
struct BigValue {
  std::uint64_t id;
  std::uint8_t payload[192];
};
static_assert(sizeof(BigValue) == 200);

}  // namespace samples

// Go's spelling of the samples' own types, for maptype names.
namespace gomap {
GOMAP_TYPENAME(samples::BigKey, "main.BigKey");
GOMAP_TYPENAME(samples::BigValue, "main.BigValue");
}  // namespace gomap

namespace samples {

enum class KeyType { uint64, int64, string, float64, big };
const char* key_type_name(KeyType t);

// Options every sample may take. A sample enables the ones that make sense.
struct Common {
  std::uint32_t seed = 0;
  bool seeded = false;
  std::int64_t keys = 0;
  std::int64_t hint = 0;
  KeyType key_type = KeyType::uint64;
  bool dump = false;
  bool trace = false;
};

// Declares options, parses argv, handles --help (exit 0) and bad input (one
// line on stderr, exit 2), and applies --seed through gomap::set_hash_seed.
class Cli {
 public:
  Cli(const char* name, const char* what);
  Cli& keys(std::int64_t dflt);
  Cli& hint(std::int64_t dflt = 0);
  Cli& key_type(KeyType dflt = KeyType::uint64);
  Cli& dump();
  Cli& trace(const char* what);
  // The sample's own options: desc().add_options()("window", po::value(&w)...)
  po::options_description& desc() { return desc_; }
  Common& parse(int argc, char** argv);

 private:
  const char* name_;
  const char* what_;
  po::options_description desc_;
  Common c_;
  std::string key_type_;
};

// The option values after parse(), for the ground-truth printer.
const Common& options();

// The i-th key of a run, for each key type: 0, 1, 2... or "k0", "k1"...
template <class K> K key_of(std::int64_t i);
template <> inline std::uint64_t key_of(std::int64_t i) { return std::uint64_t(i); }
template <> inline std::int64_t key_of(std::int64_t i) { return -i; }
template <> inline double key_of(std::int64_t i) { return double(i) + 0.5; }
template <> inline gomap::String key_of(std::int64_t i) {
  return gomap::String::make("k" + std::to_string(i));
}
template <> inline BigKey key_of(std::int64_t i) {
  BigKey k{};
  k.id = std::uint64_t(i);
  for (std::size_t j = 0; j < sizeof k.payload; ++j) k.payload[j] = std::uint8_t(i + j);
  return k;
}

// Run f.template operator()<K>() with K the C++ type of --key-type.
template <class F> void with_key_type(KeyType t, F&& f) {
  switch (t) {
    case KeyType::uint64: f.template operator()<std::uint64_t>(); break;
    case KeyType::int64: f.template operator()<std::int64_t>(); break;
    case KeyType::string: f.template operator()<gomap::String>(); break;
    case KeyType::float64: f.template operator()<double>(); break;
    case KeyType::big: f.template operator()<BigKey>(); break;
  }
}

// --- text and JSON of keys and values --------------------------------------
std::string json_of(std::uint64_t v);
std::string json_of(std::int64_t v);
std::string json_of(double v);  // NaN, Infinity as Python's json writes them
std::string json_of(const gomap::String& s);
inline std::string json_of(const BigKey& k) { return json_of(k.id); }
inline std::string json_of(const BigValue& v) { return json_of(v.id); }
std::string hex(const void* p);  // "0x7f..."; "null" for nullptr

// One line of hmap fields, for people: "count=9 B=1 flags=0 ..."
std::string describe(const gomap::hmap* h);

// --- ground truth ------------------------------------------------------------
// With --dump, print `GROUND {json}` with the map's hmap fields and entries,
// collected with the map's own iterator. Iterating sets the iterator flags (as
// a Go range loop would), so the header is read *after* iterating: the line
// matches the memory a debugger sees at the checkpoint that follows.
std::string ground_header_json(const gomap::hmap* h);
void print_ground(const char* what, const std::string& header,
                  const std::vector<std::string>& entries);

// The facade only ever holds a pointer to hash<K,V>, so nothing instantiates
// hash<K,V> or bucket<K,V> and their DWARF would be an incomplete type. Taking
// their sizes completes both, so `print *m.h` and the plugins see every field.
template <class K, class V> constexpr bool complete_debug_types() {
  using Header = typename gomap::Map<K, V>::header_type;
  using Bucket = std::remove_pointer_t<decltype(Header::buckets)>;
  static_assert(sizeof(Header) == sizeof(gomap::hmap));
  static_assert(sizeof(Bucket) ==
                gomap::bucketSize(sizeof(Bucket::keys[0]), sizeof(Bucket::values[0])));
  return true;
}

template <class K, class V> void ground(const char* what, const gomap::Map<K, V>& m) {
  static_assert(complete_debug_types<K, V>());
  if (!options().dump) return;
  std::vector<std::string> entries;
  for (auto [k, v] : m) entries.push_back("[" + json_of(k) + ", " + json_of(v) + "]");
  print_ground(what, ground_header_json(m.header()), entries);
}

// With --dump, print `GROUND {json}` with the heap registry's totals.
void ground_heap(const char* what);

// Counts and bytes of the heap registry by state and by role, read from
// gomap_heap_registry itself, as a table for people.
void print_heap_table();

}  // namespace samples

// Print the ground truth of map `m` (with --dump) and stop at checkpoint(what).
// A macro so that, at the breakpoint, `up` lands in the sample with `m` in scope.
#define CHECKPOINT(what, m)      \
  do {                           \
    ::samples::ground((what), (m)); \
    ::checkpoint(what);          \
  } while (0)
