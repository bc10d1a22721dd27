// engine_bench — the engine's map against its C++ peers on the same workloads.
//
// Plain harness: every workload runs --reps times on a fresh or prebuilt map;
// the median is reported (medians shrug off the odd page-fault storm or
// scheduler hiccup that a mean would carry). Output is one TSV line per
// (peer, key type, workload, size), the format bench/go/main.go also prints, so
// bench/report.py can merge both into one table of ratios.
//
// Every workload also yields a checksum (workload.h). All peers must agree with
// std::unordered_map, the reference: if one does not, the program says which
// and exits 1. bench/smoke.sh relies on this to catch a wrong engine in CI.
//
// Peers: engine (gomap::Map, registry recording on — the default), engine-norec
// (the same with gomap::heap_set_recording(false): the registry's cost), std
// (std::unordered_map), absl (absl::flat_hash_map, when found at build time).
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#ifdef GOMAP_BENCH_HAVE_ABSL
#include "absl/container/flat_hash_map.h"
#endif

#include "gomap/heap.h"
#include "gomap/map.h"
#include "workload.h"

namespace {

using bench::fold_iter;
using bench::fold_lookup;
using bench::value_for;

// --- peers: one small adapter each, same five operations -----------------

std::uint64_t key_digest(std::uint64_t k) { return k; }
std::uint64_t key_digest(const gomap::String& k) {
  return bench::string_digest(reinterpret_cast<const char*>(k.str), static_cast<std::size_t>(k.len));
}
std::uint64_t key_digest(std::string_view k) { return bench::string_digest(k.data(), k.size()); }

template <class K>
struct EnginePeer {
  gomap::Map<K, std::uint64_t> m;
  void init() { m = gomap::Map<K, std::uint64_t>::make(); }  // no hint: makemap_small
  void insert(const K& k, std::uint64_t v) { m.set(k, v); }
  std::uint64_t find(const K& k) const { return m.get(k); }
  template <class F> void each(F&& f) const {
    for (auto [k, v] : m) f(k, v);
  }
  void erase(const K& k) { m.erase(k); }
  std::size_t size() const { return static_cast<std::size_t>(m.len()); }
  // As a Go program would: drop the last reference, let the collector run.
  void destroy() { m.drop(); gomap::gc(); }
};

// A peer over a standard-like container (std::unordered_map, absl::flat_hash_map).
template <class Container>
struct ContainerPeer {
  using K = typename Container::key_type;
  Container m;
  void init() { m = Container(); }  // no reserve: the same growth path as the engine
  void insert(const K& k, std::uint64_t v) { m.insert_or_assign(k, v); }
  std::uint64_t find(const K& k) const { return m.find(k)->second; }
  template <class F> void each(F&& f) const {
    for (const auto& [k, v] : m) f(k, v);
  }
  void erase(const K& k) { m.erase(k); }
  std::size_t size() const { return m.size(); }
  void destroy() { Container().swap(m); }
};

// --- measurement ---------------------------------------------------------

struct Result {
  std::string peer, keytype, workload;
  std::size_t n = 0;
  std::vector<double> ns;
  std::uint64_t checksum = 0;
  bool stable = true;  // every rep gave the same checksum
};

struct Options {
  std::vector<std::size_t> sizes{1000000};
  std::vector<std::size_t> str_sizes{1000000};
  std::vector<std::string> peers{"engine", "engine-norec", "std", "absl"};
  int reps = 5;
  std::string only;          // run only workloads whose name contains this
  std::string inject_fault;  // corrupt this peer's lookup checksum (tests the check)
};

// The clock. Default: the process's CPU time, which the other jobs on a shared
// 2-core machine do not inflate the way they inflate wall time. For Go it also
// counts the collector's background threads: a GC's cost is part of Go's time.
bool g_wall_clock = false;
double now_ns() {
  if (g_wall_clock)
    return std::chrono::duration<double, std::nano>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

class Runner {
 public:
  explicit Runner(const Options& o) : opt(o) {}
  std::vector<Result> results;

  // Time body() `reps` times; body returns the workload's checksum.
  void measure(const std::string& peer, const char* keytype, const char* workload,
               std::size_t n, const std::function<std::uint64_t()>& setup,
               const std::function<std::uint64_t()>& body,
               const std::function<void()>& teardown) {
    if (!opt.only.empty() && std::string(workload).find(opt.only) == std::string::npos) return;
    Result r{peer, keytype, workload, n, {}, 0, true};
    for (int rep = 0; rep < opt.reps; rep++) {
      if (setup) setup();
      double t0 = now_ns();
      std::uint64_t c = body();
      double t1 = now_ns();
      if (teardown) teardown();
      if (rep == 0) r.checksum = c;
      else if (c != r.checksum) r.stable = false;
      r.ns.push_back(t1 - t0);
    }
    if (peer == opt.inject_fault && std::string(workload) == "lookup_inorder") r.checksum ^= 1;
    std::fprintf(stderr, "  %-13s %-6s %-16s n=%-9zu %9.2f ms\n", peer.c_str(), keytype, workload,
                 n, median(r.ns) / 1e6);
    results.push_back(std::move(r));
  }

  // All workloads for one peer over one key set. `seq` may be empty (strings).
  template <class Peer, class K>
  void run(const std::string& name, const char* keytype, const std::vector<K>& seq,
           const std::vector<K>& keys, const std::vector<std::uint32_t>& order) {
    const std::size_t n = keys.size();
    Peer p;
    auto fill = [&](const std::vector<K>& ks) {
      p.init();
      for (std::size_t i = 0; i < ks.size(); i++) p.insert(ks[i], value_for(i));
      return static_cast<std::uint64_t>(p.size());
    };
    auto fill_keys = [&] { return fill(keys); };
    auto drop = [&] { p.destroy(); };
    if (!seq.empty()) measure(name, keytype, "insert_seq", n, nullptr, [&] { return fill(seq); }, drop);
    measure(name, keytype, "insert_rand", n, nullptr, fill_keys, drop);

    // Lookups and iteration share one map, built once outside the clock.
    bool reads = opt.only.empty() || std::string("lookup_inorder lookup_shuffled iterate").find(opt.only) != std::string::npos;
    if (reads) {
      fill_keys();
      measure(name, keytype, "lookup_inorder", n, nullptr, [&] {
        std::uint64_t acc = 0;
        for (std::size_t i = 0; i < n; i++) acc = fold_lookup(acc, p.find(keys[i]));
        return acc;
      }, nullptr);
      measure(name, keytype, "lookup_shuffled", n, nullptr, [&] {
        std::uint64_t acc = 0;
        for (std::size_t i = 0; i < n; i++) acc = fold_lookup(acc, p.find(keys[order[i]]));
        return acc;
      }, nullptr);
      measure(name, keytype, "iterate", n, nullptr, [&] {
        std::uint64_t acc = 0;
        p.each([&](const auto& k, std::uint64_t v) { acc = fold_iter(acc, key_digest(k), v); });
        return acc;
      }, nullptr);
      p.destroy();
    }
    // Delete every key, in insertion order, from a freshly built map.
    measure(name, keytype, "delete", n, fill_keys, [&] {
      for (std::size_t i = 0; i < n; i++) p.erase(keys[i]);
      return static_cast<std::uint64_t>(n - p.size());
    }, drop);
  }

  static double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.empty() ? 0 : v[(v.size() - 1) / 2];
  }

 private:
  const Options& opt;
};

template <class K>
void run_engine(Runner& r, const std::string& name, const char* keytype, const std::vector<K>& seq,
                const std::vector<K>& keys, const std::vector<std::uint32_t>& order) {
  // Recording is switched for the peer's whole life, so every allocation is
  // dropped under the same setting it was made with.
  gomap::heap_set_recording(name != "engine-norec");
  r.run<EnginePeer<K>>(name, keytype, seq, keys, order);
  gomap::heap_set_recording(true);
}

void run_u64(Runner& r, const Options& opt, std::size_t n) {
  auto seq = bench::sequential_keys(n);
  auto keys = bench::random_keys(n);
  auto order = bench::shuffled_order(n);
  for (const auto& peer : opt.peers) {
    if (peer == "engine" || peer == "engine-norec") run_engine(r, peer, "uint64", seq, keys, order);
    else if (peer == "std")
      r.run<ContainerPeer<std::unordered_map<std::uint64_t, std::uint64_t>>>(peer, "uint64", seq, keys, order);
#ifdef GOMAP_BENCH_HAVE_ABSL
    else if (peer == "absl")
      r.run<ContainerPeer<absl::flat_hash_map<std::uint64_t, std::uint64_t>>>(peer, "uint64", seq, keys, order);
#endif
  }
}

void run_str(Runner& r, const Options& opt, std::size_t n) {
  // Go's map[string]V holds string headers pointing at shared bytes; so do the
  // peers here (gomap::String, std::string_view): no peer copies key bytes.
  auto owned = bench::string_keys(n);
  auto order = bench::shuffled_order(n);
  std::vector<std::string_view> views(owned.begin(), owned.end());
  for (const auto& peer : opt.peers) {
    if (peer == "engine" || peer == "engine-norec") {
      static std::map<std::size_t, std::vector<gomap::String>> arena_keys;  // String::make never frees
      auto& gk = arena_keys[n];
      if (gk.empty())
        for (const auto& s : owned) gk.push_back(gomap::String::make(s));
      run_engine(r, peer, "string", std::vector<gomap::String>{}, gk, order);
    } else if (peer == "std") {
      r.run<ContainerPeer<std::unordered_map<std::string_view, std::uint64_t>>>(peer, "string", {}, views, order);
    }
#ifdef GOMAP_BENCH_HAVE_ABSL
    else if (peer == "absl") {
      r.run<ContainerPeer<absl::flat_hash_map<std::string_view, std::uint64_t>>>(peer, "string", {}, views, order);
    }
#endif
  }
}

// --- command line ----------------------------------------------------------

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "engine_bench: %s (see --help)\n", msg.c_str());
  std::exit(2);
}

std::vector<std::size_t> parse_sizes(const std::string& s) {
  std::vector<std::size_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    char* end = nullptr;
    unsigned long long v = std::strtoull(item.c_str(), &end, 10);
    if (*end != '\0' || v == 0 || v > 100000000ULL || item[0] == '-')
      usage_error("bad size '" + item + "': want 1..100000000");
    out.push_back(static_cast<std::size_t>(v));
  }
  return out;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

const char* kHelp =
    "usage: engine_bench [options]\n"
    "  --sizes=N,...       uint64-key map sizes (default 1000000)\n"
    "  --str-sizes=N,...   string-key map sizes (default 1000000; empty: none)\n"
    "  --peers=P,...       engine,engine-norec,std,absl (default: all built)\n"
    "  --reps=R            repetitions per workload, median reported (default 5)\n"
    "  --only=W            only workloads whose name contains W (for profiling)\n"
    "  --clock=cpu|wall    process CPU time (default) or wall-clock time\n"
    "  --smoke             tiny sizes, 1 rep: checks the harness and the checksums\n"
    "  --inject-fault=P    corrupt peer P's lookup checksum (tests the check)\n"
    "Prints TSV: peer keytype workload n median_ns min_ns reps checksum.\n"
    "Exits 1 if any peer's checksum differs from std::unordered_map's.\n";

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto val = [&](const char* name) -> const char* {
      std::string pre = std::string(name) + "=";
      return a.rfind(pre, 0) == 0 ? argv[i] + pre.size() : nullptr;
    };
    if (a == "--help" || a == "-h") { std::fputs(kHelp, stdout); std::exit(0); }
    else if (a == "--smoke") { o.sizes = {1000, 20000}; o.str_sizes = {1000, 5000}; o.reps = 1; }
    else if (auto v = val("--sizes")) o.sizes = parse_sizes(v);
    else if (auto v = val("--str-sizes")) o.str_sizes = parse_sizes(v);
    else if (auto v = val("--peers")) o.peers = split(v);
    else if (auto v = val("--only")) o.only = v;
    else if (auto v = val("--clock")) {
      if (std::string(v) != "cpu" && std::string(v) != "wall") usage_error(std::string("bad --clock '") + v + "': want cpu or wall");
      g_wall_clock = std::string(v) == "wall";
    }
    else if (auto v = val("--inject-fault")) o.inject_fault = v;
    else if (auto v = val("--reps")) {
      o.reps = std::atoi(v);
      if (o.reps < 1 || o.reps > 1000) usage_error(std::string("bad --reps '") + v + "': want 1..1000");
    } else usage_error("unknown argument '" + a + "'");
  }
  for (const auto& p : o.peers) {
    bool known = p == "engine" || p == "engine-norec" || p == "std";
#ifdef GOMAP_BENCH_HAVE_ABSL
    known = known || p == "absl";
#else
    if (p == "absl") { std::fprintf(stderr, "engine_bench: absl not found at build time, skipping it\n"); continue; }
#endif
    if (!known) usage_error("unknown peer '" + p + "'");
  }
  return o;
}

// Every peer's checksum must equal the reference's (std, else the first peer).
int verify(const std::vector<Result>& results) {
  int bad = 0;
  std::map<std::string, const Result*> ref;
  for (const auto& r : results) {
    std::string key = r.keytype + "/" + r.workload + "/" + std::to_string(r.n);
    if (r.peer == "std" || !ref.count(key)) ref[key] = &r;
    if (!r.stable) {
      std::fprintf(stderr, "engine_bench: %s %s: checksum changed between reps\n", r.peer.c_str(), key.c_str());
      bad++;
    }
  }
  for (const auto& r : results) {
    const Result* f = ref[r.keytype + "/" + r.workload + "/" + std::to_string(r.n)];
    if (r.checksum != f->checksum) {
      std::fprintf(stderr, "engine_bench: checksum mismatch: %s %s %s n=%zu: %llu, %s has %llu\n",
                   r.peer.c_str(), r.keytype.c_str(), r.workload.c_str(), r.n,
                   static_cast<unsigned long long>(r.checksum), f->peer.c_str(),
                   static_cast<unsigned long long>(f->checksum));
      bad++;
    }
  }
  return bad;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse(argc, argv);
  Runner r(opt);
  for (auto n : opt.sizes) run_u64(r, opt, n);
  for (auto n : opt.str_sizes) run_str(r, opt, n);
  std::printf("# peer\tkeytype\tworkload\tn\tmedian_ns\tmin_ns\treps\tchecksum\n");
  for (const auto& x : r.results)
    std::printf("%s\t%s\t%s\t%zu\t%.0f\t%.0f\t%zu\t%llu\n", x.peer.c_str(), x.keytype.c_str(),
                x.workload.c_str(), x.n, Runner::median(x.ns), *std::min_element(x.ns.begin(), x.ns.end()),
                x.ns.size(), static_cast<unsigned long long>(x.checksum));
  std::fflush(stdout);
  return verify(r.results) ? 1 : 0;
}
