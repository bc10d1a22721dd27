// nil_map — `var m map[string]int64`: a nil map reads as empty and panics on write.
//
// A nil map is a nil *hmap. Every read path checks for it and answers as an
// empty map would (len 0, the zero value, ok = false, a loop of no
// iterations; delete is a no-op). mapassign cannot: there is no header to
// write to, so it panics with "assignment to entry in nil map". In Go a
// deferred recover() catches that panic; here gomap::Panic is a C++ exception.
//
// Checkpoints: "nil-reads" (after the reads), "recovered" (after catching the
// panic), "after-make" (m made, then written), "done".
// --no-recover lets the panic escape, and the program dies as Go's does:
// `panic: assignment to entry in nil map`, exit status 2.
#include <cstdlib>

#include "common.h"

namespace {

void write_to(gomap::Map<gomap::String, std::int64_t>& m) {
  std::printf("m[\"answer\"] = 42 ...\n");
  m.set(gomap::String::make("answer"), 42);  // mapassign_faststr(t, nil, "answer") panics
  std::printf("written\n");
}

}  // namespace

int main(int argc, char** argv) {
  bool no_recover = false;
  samples::Cli cli("nil_map", "Read from and write to a nil map; recover from the panic.");
  cli.desc().add_options()("no-recover", samples::po::bool_switch(&no_recover),
                           "let the panic escape: the process dies as Go's does");
  cli.parse(argc, argv);

  gomap::Map<gomap::String, std::int64_t> m;  // var m map[string]int64
  std::printf("m is nil: %s, len(m) = %lld\n", m.is_nil() ? "true" : "false",
              (long long)m.len());
  std::printf("m[\"answer\"] = %lld\n", (long long)m.get(gomap::String::make("answer")));
  auto [v, ok] = m.lookup(gomap::String::make("answer"));
  std::printf("v, ok := m[\"answer\"] -> %lld, %s\n", (long long)v, ok ? "true" : "false");
  int loops = 0;
  for (auto entry : m) (void)entry, ++loops;
  std::printf("for range m: %d iterations\n", loops);
  m.erase(gomap::String::make("answer"));
  std::printf("delete(m, \"answer\"): no-op\n");
  CHECKPOINT("nil-reads", m);

  if (no_recover) {
    try {
      write_to(m);
    } catch (const gomap::Panic& p) {
      // What Go's runtime prints for a panic nobody recovers.
      std::fprintf(stderr, "panic: %s\n", p.what());
      std::exit(2);
    }
  }
  try {
    write_to(m);
  } catch (const gomap::Panic& p) {  // defer func() { r := recover() ... }()
    std::printf("recovered: %s\n", p.what());
  }
  checkpoint("recovered");

  m = gomap::Map<gomap::String, std::int64_t>::make();  // m = make(map[string]int64)
  write_to(m);
  std::printf("after make: len(m) = %lld, m[\"answer\"] = %lld\n", (long long)m.len(),
              (long long)m.get(gomap::String::make("answer")));
  CHECKPOINT("after-make", m);
  checkpoint("done");
}
