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
// (the same with gomap::heap_set_recording(false), which skips the records and
// nothing else: the registry's cost), std
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
  double min_ms = 0;         // more reps (up to kMaxReps) until each peer has run this long
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
  return bench::cpu_ns();
}

class Runner {
 public:
  explicit Runner(const Options& o) : opt(o) {}
  std::vector<Result> results;

  // One workload for a group of peers, interleaved: rep r of every peer runs
  // before rep r+1 of any, in forward order on even reps and backward on odd
  // ones (A B, B A, ...). A slow spell of this shared machine then lands on
  // every peer of the group alike, which is what a ratio between them (the
  // registry's cost: engine against engine-norec) needs. enter(p) runs before
  // each of peer p's reps, off the clock. Every body returns the workload's
  // checksum.
  struct Job {
    std::function<std::uint64_t()> setup, body;
    std::function<void()> teardown;
  };
  void measure(const std::vector<std::string>& peers, const std::function<void(std::size_t)>& enter,
               const char* keytype, const char* workload, std::size_t n,
               const std::function<Job(std::size_t)>& job) {
    if (!opt.only.empty() && std::string(workload).find(opt.only) == std::string::npos) return;
    const std::size_t np = peers.size();
    std::vector<Result> rs;
    std::vector<Job> jobs;
    for (std::size_t p = 0; p < np; p++) {
      rs.push_back(Result{peers[p], keytype, workload, n, {}, 0, true});
      jobs.push_back(job(p));
    }
    for (int rep = 0;; rep++) {
      if (rep >= opt.reps && !wantMore(rs, rep)) break;
      for (std::size_t q = 0; q < np; q++) {
        std::size_t p = rep % 2 ? np - 1 - q : q;
        Result& r = rs[p];
        enter(p);
        if (jobs[p].setup) jobs[p].setup();
        double t0 = now_ns();
        std::uint64_t c = jobs[p].body();
        double t1 = now_ns();
        if (jobs[p].teardown) jobs[p].teardown();
        if (rep == 0) r.checksum = c;
        else if (c != r.checksum) r.stable = false;
        r.ns.push_back(t1 - t0);
      }
    }
    for (auto& r : rs) {
      if (r.peer == opt.inject_fault && std::string(workload) == "lookup_inorder") r.checksum ^= 1;
      std::fprintf(stderr, "  %-13s %-6s %-16s n=%-9zu %9.2f ms\n", r.peer.c_str(), keytype, workload,
                   n, bench::median(r.ns) / 1e6);
      results.push_back(std::move(r));
    }
  }

  // Past the --reps asked for, short workloads run again (up to kMaxReps) until
  // every peer has spent --min-ms in them: a median of five 4 ms runs moves
  // with every hiccup of a shared machine, one of 25 much less. All peers of
  // the group keep running, interleaved, until the slowest has had its time.
  static constexpr int kMaxReps = 25;
  bool wantMore(const std::vector<Result>& rs, int done) const {
    if (opt.min_ms <= 0 || done >= kMaxReps) return false;
    for (const auto& r : rs) {
      double total = 0;
      for (double ns : r.ns) total += ns;
      if (total < opt.min_ms * 1e6) return true;
    }
    return false;
  }

  // All workloads for a group of peers of one type over one key set (see
  // measure). `seq` may be empty (strings).
  template <class Peer, class K>
  void run(const std::vector<std::string>& names, const std::function<void(std::size_t)>& enter,
           const char* keytype, const bench::Vec<K>& seq, const bench::Vec<K>& keys,
           const bench::Vec<std::uint32_t>& order) {
    const std::size_t n = keys.size();
    std::vector<Peer> ps(names.size());
    auto fill = [&](Peer& p, const bench::Vec<K>& ks) {
      p.init();
      for (std::size_t i = 0; i < ks.size(); i++) p.insert(ks[i], value_for(i));
      return static_cast<std::uint64_t>(p.size());
    };
    // (The jobs name their peer by index, captured by value: they outlive
    // the lambda that makes them.)
    auto inserts = [&](const bench::Vec<K>& ks) {
      return [&, ks = &ks](std::size_t i) {
        return Job{nullptr, [&, i, ks] { return fill(ps[i], *ks); }, [&, i] { ps[i].destroy(); }};
      };
    };
    if (!seq.empty()) measure(names, enter, keytype, "insert_seq", n, inserts(seq));
    measure(names, enter, keytype, "insert_rand", n, inserts(keys));

    // Lookups and iteration share one map per peer, built once off the clock.
    bool reads = opt.only.empty() || std::string("lookup_inorder lookup_shuffled iterate").find(opt.only) != std::string::npos;
    if (reads) {
      for (std::size_t i = 0; i < ps.size(); i++) {
        enter(i);
        fill(ps[i], keys);
      }
      // Lookups of every key, the j-th being keys[at(j)]: values folded in order.
      auto lookups = [&](auto at) {
        return [&, at](std::size_t i) {
          return Job{nullptr, [&, i, at] {
            std::uint64_t acc = 0;
            for (std::size_t j = 0; j < n; j++) acc = fold_lookup(acc, ps[i].find(keys[at(j)]));
            return acc;
          }, nullptr};
        };
      };
      measure(names, enter, keytype, "lookup_inorder", n, lookups([](std::size_t j) { return j; }));
      measure(names, enter, keytype, "lookup_shuffled", n, lookups([&](std::size_t j) { return order[j]; }));
      measure(names, enter, keytype, "iterate", n, [&](std::size_t i) {
        return Job{nullptr, [&, i] {
          std::uint64_t acc = 0;
          ps[i].each([&](const auto& k, std::uint64_t v) { acc = fold_iter(acc, key_digest(k), v); });
          return acc;
        }, nullptr};
      });
      for (std::size_t i = 0; i < ps.size(); i++) {
        enter(i);
        ps[i].destroy();
      }
    }
    // Delete every key, in insertion order, from a freshly built map.
    measure(names, enter, keytype, "delete", n, [&](std::size_t i) {
      return Job{[&, i] { return fill(ps[i], keys); }, [&, i] {
        for (std::size_t j = 0; j < n; j++) ps[i].erase(keys[j]);
        return static_cast<std::uint64_t>(n - ps[i].size());
      }, [&, i] { ps[i].destroy(); }};
    });
  }

 private:
  const Options& opt;
};

// The engine peers run as one interleaved group (Runner::measure): engine
// (registry recording on, the default) and engine-norec (off), so that their
// ratio, the registry's cost, compares reps taken side by side. Recording is
// switched before each of a peer's reps, setup and teardown included, so
// every allocation is made and dropped under that peer's own setting.
template <class K>
void run_engine(Runner& r, const Options& opt, const char* keytype, const bench::Vec<K>& seq,
                const bench::Vec<K>& keys, const bench::Vec<std::uint32_t>& order) {
  std::vector<std::string> names;
  for (const auto& p : opt.peers)
    if (p == "engine" || p == "engine-norec") names.push_back(p);
  if (names.empty()) return;
  r.run<EnginePeer<K>>(names, [&](std::size_t i) { gomap::heap_set_recording(names[i] != "engine-norec"); },
                       keytype, seq, keys, order);
  gomap::heap_set_recording(true);
}

const std::function<void(std::size_t)> kNoEnter = [](std::size_t) {};

void run_u64(Runner& r, const Options& opt, std::size_t n) {
  auto seq = bench::sequential_keys(n);
  auto keys = bench::random_keys(n);
  auto order = bench::shuffled_order(n);
  bool engineDone = false;
  for (const auto& peer : opt.peers) {
    if (peer == "engine" || peer == "engine-norec") {
      if (!engineDone) run_engine(r, opt, "uint64", seq, keys, order);
      engineDone = true;
    } else if (peer == "std")
      r.run<ContainerPeer<std::unordered_map<std::uint64_t, std::uint64_t>>>({peer}, kNoEnter, "uint64", seq, keys, order);
#ifdef GOMAP_BENCH_HAVE_ABSL
    else if (peer == "absl")
      r.run<ContainerPeer<absl::flat_hash_map<std::uint64_t, std::uint64_t>>>({peer}, kNoEnter, "uint64", seq, keys, order);
#endif
  }
}

void run_str(Runner& r, const Options& opt, std::size_t n) {
  // Go's map[string]V holds string headers pointing at shared bytes; so do the
  // peers here (gomap::String, std::string_view), and they all point at the
  // same bytes: one copy in String::make's arena (huge pages, as Go's heap),
  // made once per size (the arena never frees).
  static std::map<std::size_t, bench::Vec<gomap::String>> arena_keys;
  auto& gk = arena_keys[n];
  if (gk.empty()) {
    gk.reserve(n);
    for (const auto& s : bench::string_keys(n)) gk.push_back(gomap::String::make(s));
  }
  bench::Vec<std::string_view> views;
  views.reserve(n);
  for (const auto& k : gk) views.push_back(k.view());
  auto order = bench::shuffled_order(n);
  bool engineDone = false;
  for (const auto& peer : opt.peers) {
    if (peer == "engine" || peer == "engine-norec") {
      if (engineDone) continue;
      engineDone = true;
      run_engine(r, opt, "string", bench::Vec<gomap::String>{}, gk, order);
    } else if (peer == "std") {
      r.run<ContainerPeer<std::unordered_map<std::string_view, std::uint64_t>>>({peer}, kNoEnter, "string", {}, views, order);
    }
#ifdef GOMAP_BENCH_HAVE_ABSL
    else if (peer == "absl") {
      r.run<ContainerPeer<absl::flat_hash_map<std::string_view, std::uint64_t>>>({peer}, kNoEnter, "string", {}, views, order);
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
    "  --min-ms=T          then more (up to 25) until each peer has run T ms (default 0)\n"
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
    else if (auto v = val("--min-ms")) {
      char* end = nullptr;
      o.min_ms = std::strtod(v, &end);
      if (end == v || *end != '\0' || o.min_ms < 0 || o.min_ms > 60000) usage_error(std::string("bad --min-ms '") + v + "': want 0..60000");
    }
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
                x.workload.c_str(), x.n, bench::median(x.ns), *std::min_element(x.ns.begin(), x.ns.end()),
                x.ns.size(), static_cast<unsigned long long>(x.checksum));
  std::fflush(stdout);
  return verify(r.results) ? 1 : 0;
}
