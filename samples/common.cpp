// common.cpp — checkpoint, option parsing and ground-truth printing for the samples.
#include "common.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "gdb_autoload.h"  // generated: GOMAP_GDB_SCRIPT, the plugin's absolute path
#include "gomap/heap.h"
#include "gomap/runtime.h"

// gdb's auto-load: a `.debug_gdb_scripts` section holding a byte 1 (a script
// file name follows) and the NUL-terminated path of the plugin. gdb loads it
// when the file is under an `add-auto-load-safe-path`. "MS" with entry size 1
// lets the linker merge identical entries. It lives in this file because this
// file is always linked (it defines checkpoint).
asm(".pushsection \".debug_gdb_scripts\", \"MS\",@progbits,1\n"
    ".byte 1\n"
    ".asciz \"" GOMAP_GDB_SCRIPT "\"\n"
    ".popsection\n");

extern "C" {
volatile long checkpoint_count = 0;
}

extern "C" __attribute__((noinline, used)) void checkpoint(const char* what) {
  checkpoint_count = checkpoint_count + 1;
  // An empty asm with a memory clobber: the call and `what` stay observable at
  // any optimisation level, so `break checkpoint` always has somewhere to stop.
  asm volatile("" : : "r"(what) : "memory");
}

namespace samples {

namespace {
Common g_options;

[[noreturn]] void usage_error(const char* name, const std::string& msg) {
  std::cerr << name << ": " << msg << " (try --help)\n";
  std::exit(2);
}
}  // namespace

const Common& options() { return g_options; }

const char* key_type_name(KeyType t) {
  switch (t) {
    case KeyType::uint64: return "uint64";
    case KeyType::int64: return "int64";
    case KeyType::string: return "string";
    case KeyType::float64: return "float64";
    case KeyType::big: return "big";
  }
  return "?";
}

Cli::Cli(const char* name, const char* what) : name_(name), what_(what), desc_("Options") {
  desc_.add_options()
      ("help,h", "show this help and exit")
      ("seed", po::value<std::int64_t>(),
       "hash seed (hmap.hash0), fastrand seed and hash key material, 0..4294967295, for reproducible "
       "bucket placement and iteration order; random when absent, as in Go");
}

Cli& Cli::keys(std::int64_t dflt) {
  c_.keys = dflt;
  desc_.add_options()("keys", po::value<std::int64_t>(&c_.keys)->default_value(dflt),
                      "number of keys to insert");
  return *this;
}

Cli& Cli::hint(std::int64_t dflt) {
  c_.hint = dflt;
  desc_.add_options()("hint", po::value<std::int64_t>(&c_.hint)->default_value(dflt),
                      "size hint for make(map[K]V, hint); 0 = make(map[K]V)");
  return *this;
}

Cli& Cli::key_type(KeyType dflt) {
  c_.key_type = dflt;
  key_type_ = key_type_name(dflt);
  desc_.add_options()("key-type", po::value<std::string>(&key_type_)->default_value(key_type_),
                      "uint64|int64|string|float64|big (big: a 136-byte struct, stored "
                      "indirectly)");
  return *this;
}

Cli& Cli::dump() {
  desc_.add_options()("dump", po::bool_switch(&c_.dump),
                      "at each checkpoint print `GROUND {json}`: hmap fields and entries");
  return *this;
}

Cli& Cli::trace(const char* what) {
  desc_.add_options()("trace", po::bool_switch(&c_.trace), what);
  return *this;
}

Common& Cli::parse(int argc, char** argv) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc_).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    usage_error(name_, e.what());
  }
  if (vm.count("help")) {
    std::cout << "Usage: " << name_ << " [options]\n" << what_ << "\n\n" << desc_;
    std::exit(0);
  }
  if (vm.count("seed")) {
    std::int64_t s = vm["seed"].as<std::int64_t>();
    if (s < 0 || s > 0xffffffffLL) usage_error(name_, "--seed must be in 0..4294967295");
    c_.seed = std::uint32_t(s);
    c_.seeded = true;
    gomap::set_hash_seed(c_.seed);
  }
  if (c_.keys < 0) usage_error(name_, "--keys must not be negative");
  if (c_.hint < 0) usage_error(name_, "--hint must not be negative");
  if (!key_type_.empty()) {
    bool found = false;
    for (KeyType t : {KeyType::uint64, KeyType::int64, KeyType::string, KeyType::float64,
                      KeyType::big})
      if (key_type_ == key_type_name(t)) c_.key_type = t, found = true;
    if (!found)
      usage_error(name_, "--key-type must be one of uint64, int64, string, float64, big (got '" +
                             key_type_ + "')");
  }
  g_options = c_;
  return c_;
}

// --- text and JSON ---------------------------------------------------------------

std::string json_of(std::uint64_t v) { return std::to_string(v); }
std::string json_of(std::int64_t v) { return std::to_string(v); }

std::string json_of(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  // Keep it a float in Python's eyes (and keep -0.0 distinct from 0).
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string json_of(const gomap::String& s) {
  std::string out = "\"";
  for (unsigned char c : s.view()) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

std::string hex(const void* p) {
  if (!p) return "null";
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%" PRIxPTR, reinterpret_cast<std::uintptr_t>(p));
  return buf;
}

std::string describe(const gomap::hmap* h) {
  if (!h) return "nil map";
  std::ostringstream o;
  o << "hmap " << hex(h) << ": count=" << h->count << " B=" << int(h->B)
    << " flags=" << int(h->flags) << " noverflow=" << h->noverflow
    << " buckets=" << hex(h->buckets) << " oldbuckets=" << hex(h->oldbuckets)
    << " nevacuate=" << h->nevacuate;
  return o.str();
}

// --- ground truth ------------------------------------------------------------------

std::string ground_header_json(const gomap::hmap* h) {
  if (!h) return "\"nil\": true, \"count\": 0";
  auto quoted = [](const void* p) { return p ? "\"" + hex(p) + "\"" : std::string("null"); };
  std::ostringstream o;
  o << "\"hmap\": " << quoted(h) << ", \"count\": " << h->count << ", \"B\": " << int(h->B)
    << ", \"flags\": " << int(h->flags) << ", \"hash0\": " << h->hash0
    << ", \"buckets\": " << quoted(h->buckets) << ", \"oldbuckets\": " << quoted(h->oldbuckets)
    << ", \"nevacuate\": " << h->nevacuate << ", \"noverflow\": " << h->noverflow;
  return o.str();
}

void print_ground(const char* what, const std::string& header,
                  const std::vector<std::string>& entries) {
  std::ostringstream o;
  // seq: the value checkpoint_count will have once the checkpoint that follows runs.
  o << "GROUND {\"checkpoint\": \"" << what << "\", \"seq\": " << checkpoint_count + 1 << ", "
    << header << ", \"entries\": [";
  for (std::size_t i = 0; i < entries.size(); ++i) o << (i ? ", " : "") << entries[i];
  o << "]}\n";
  std::cout << o.str() << std::flush;
}

namespace {
constexpr const char* kRoles[] = {"?", "hmap", "buckets", "overflow", "indirect_key",
                                  "indirect_elem", "mapextra"};
constexpr const char* kStates[] = {"live", "unreachable", "freed"};
constexpr int kNumRoles = 7, kNumStates = 3;

struct Tally {
  std::uint64_t count[kNumRoles][kNumStates] = {};
  std::uint64_t bytes[kNumRoles][kNumStates] = {};
};

// Walks the registry record by record: an independent count of what the
// registry's own running totals (live_bytes, ...) claim.
Tally tally() {
  Tally t;
  const gomap::HeapRegistry& r = gomap_heap_registry;
  for (std::uint64_t i = 0; i < r.count; ++i) {
    const gomap::HeapRecord& rec = r.records[i];
    int role = int(rec.role) < kNumRoles ? int(rec.role) : 0;
    int state = int(rec.state) < kNumStates ? int(rec.state) : 0;
    t.count[role][state] += 1;
    t.bytes[role][state] += rec.size;
  }
  return t;
}
}  // namespace

void ground_heap(const char* what) {
  if (!options().dump) return;
  Tally t = tally();
  const gomap::HeapRegistry& r = gomap_heap_registry;
  std::ostringstream o;
  o << "GROUND {\"checkpoint\": \"" << what << "\", \"seq\": " << checkpoint_count + 1
    << ", \"heap\": {\"records\": " << r.count << ", \"gc_cycles\": " << r.gc_cycles;
  for (int s = 0; s < kNumStates; ++s) {
    std::uint64_t n = 0, b = 0;
    for (int role = 0; role < kNumRoles; ++role) n += t.count[role][s], b += t.bytes[role][s];
    o << ", \"" << kStates[s] << "\": {\"count\": " << n << ", \"bytes\": " << b << "}";
  }
  o << ", \"forgotten\": {\"count\": " << r.forgotten << ", \"bytes\": " << r.forgotten_bytes << "}";
  o << ", \"by_role\": {";
  bool first = true;
  for (int role = 1; role < kNumRoles; ++role) {
    o << (first ? "" : ", ") << "\"" << kRoles[role] << "\": {";
    first = false;
    for (int s = 0; s < kNumStates; ++s)
      o << (s ? ", " : "") << "\"" << kStates[s] << "\": {\"count\": " << t.count[role][s]
        << ", \"bytes\": " << t.bytes[role][s] << "}";
    o << "}";
  }
  o << "}}}\n";
  std::cout << o.str() << std::flush;
}

void print_heap_table() {
  Tally t = tally();
  const gomap::HeapRegistry& r = gomap_heap_registry;
  std::printf("  heap registry: %" PRIu64 " records, %" PRIu64 " collections\n", r.count,
              r.gc_cycles);
  std::printf("  %-14s %18s %18s %18s\n", "role", "live", "unreachable", "freed");
  std::uint64_t total_n[kNumStates] = {}, total_b[kNumStates] = {};
  for (int role = 1; role < kNumRoles; ++role) {
    std::printf("  %-14s", kRoles[role]);
    for (int s = 0; s < kNumStates; ++s) {
      char cell[40];
      std::snprintf(cell, sizeof cell, "%" PRIu64 " / %" PRIu64 " B", t.count[role][s],
                    t.bytes[role][s]);
      std::printf(" %18s", cell);
      total_n[s] += t.count[role][s];
      total_b[s] += t.bytes[role][s];
    }
    std::printf("\n");
  }
  std::printf("  %-14s", "total");
  for (int s = 0; s < kNumStates; ++s) {
    char cell[40];
    std::snprintf(cell, sizeof cell, "%" PRIu64 " / %" PRIu64 " B", total_n[s], total_b[s]);
    std::printf(" %18s", cell);
  }
  std::printf("\n  registry totals: live %" PRIu64 " B, unreachable %" PRIu64 " B, freed %" PRIu64
              " B%s\n",
              r.live_bytes, r.unreachable_bytes, r.freed_bytes,
              r.live_bytes == total_b[0] && r.unreachable_bytes == total_b[1] &&
                      r.freed_bytes == total_b[2]
                  ? " (agree with the records)"
                  : " (DISAGREE with the records)");
  if (r.forgotten != 0)
    std::printf("  forgotten: %" PRIu64 " older freed allocations, %" PRIu64
                " B (their memory was reused; past the history limit the registry drops them)\n",
                r.forgotten, r.forgotten_bytes);
}

}  // namespace samples
