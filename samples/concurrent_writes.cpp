// concurrent_writes — two threads write one map without a lock.
//
// mapassign sets hashWriting in hmap.flags for the length of a write and checks
// it on entry (and again on exit). A second writer that finds the flag set does
// not try to repair anything: it calls fatal("concurrent map writes"), which
// prints `fatal error: concurrent map writes` and exits with status 2. It is a
// fatal error, not a panic: no recover() can catch it. Detection is best
// effort (the flag is not atomic), but two busy writers trip it quickly.
//
// With --safe both threads take a mutex around each write and the program
// finishes normally.
//
// Checkpoints: "before-threads" (the map is in scope as `m`), "done" (--safe only).
// In gdb: `break fatal` to stop in the writer that noticed.
#include <mutex>
#include <thread>

#include "common.h"

int main(int argc, char** argv) {
  bool safe = false;
  samples::Cli cli("concurrent_writes",
                   "Two threads write one map; without --safe the process dies with "
                   "`fatal error: concurrent map writes`.");
  cli.keys(200000);
  cli.desc().add_options()("safe", samples::po::bool_switch(&safe),
                           "take a mutex around each write: no error");
  const samples::Common& o = cli.parse(argc, argv);

  auto m = gomap::Map<std::uint64_t, std::int64_t>::make();
  std::mutex mu;
  std::printf("concurrent_writes: 2 threads x %lld writes, %s\n", (long long)o.keys,
              safe ? "with a mutex" : "without a lock");
  std::fflush(stdout);
  CHECKPOINT("before-threads", m);

  auto writer = [&](std::uint64_t first) {
    for (std::int64_t i = 0; i < o.keys; ++i) {
      std::uint64_t key = first + std::uint64_t(i) * 2;  // the threads' keys never collide
      if (safe) {
        std::lock_guard lock(mu);
        m.set(key, i);
      } else {
        m.set(key, i);
      }
    }
  };
  std::thread a(writer, 0), b(writer, 1);
  a.join();
  b.join();

  std::printf("finished: len %lld (expected %lld)\n", (long long)m.len(), (long long)(2 * o.keys));
  if (!safe) std::printf("no concurrent write was detected this time\n");
  CHECKPOINT("done", m);
}
