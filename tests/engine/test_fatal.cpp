// test_fatal.cpp — Go's fatal errors end the process: run them in a child.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "util.h"

using namespace gomap;
using gt::I64Map;

namespace {

struct ChildResult {
  int status = -1;  // exit status, or -1 when killed by a signal
  std::string err;
};

// Fork, run body in the child (which must not return normally), capture its
// stderr and exit status.
ChildResult runChild(const std::function<void()>& body) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 2);
    body();
    _exit(0);  // body returned: not what Go would do
  }
  close(fds[1]);
  ChildResult r;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) r.err.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  if (WIFEXITED(st)) r.status = WEXITSTATUS(st);
  return r;
}

bool contains(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

}  // namespace

TEST_CASE("fatal() prints Go's line and exits 2") {
  ChildResult r = runChild([] { fatal("something bad"); });
  CHECK(r.status == 2);
  CHECK(r.err == "fatal error: something bad\n");
}

TEST_CASE("concurrent map writes with real threads: fatal error, exit 2") {
  ChildResult r = runChild([] {
    set_invariant_checks(false);  // the checker would race the writers too
    // Pre-sized: no grow, no allocation while the threads race.
    I64Map m = I64Map::make(4096);
    std::atomic<bool> go{false};
    auto writer = [&](std::int64_t base) {
      while (!go.load()) {
      }
      for (std::int64_t i = 0;; i++) m.set(base + (i & 1023), i);
    };
    std::thread a(writer, 0), b(writer, 1);
    go = true;
    a.join();  // never returns: one of the writers ends the process
    b.join();
  });
  CHECK(r.status == 2);
  CHECK(contains(r.err, "fatal error: concurrent map writes"));
}

TEST_CASE("concurrent map read and map write with real threads") {
  ChildResult r = runChild([] {
    set_invariant_checks(false);
    I64Map m = I64Map::make(4096);
    for (std::int64_t i = 0; i < 1024; i++) m.set(i, i);
    std::atomic<bool> go{false};
    std::thread w([&] {
      while (!go.load()) {
      }
      for (std::int64_t i = 0;; i++) m.set(i & 1023, i);
    });
    go = true;
    std::int64_t sink = 0;
    for (std::int64_t i = 0;; i++) sink += m.get(i & 1023);
  });
  CHECK(r.status == 2);
  // The reader or (rarely) the writer notices first.
  CHECK((contains(r.err, "fatal error: concurrent map read and map write") ||
         contains(r.err, "fatal error: concurrent map writes")));
}

TEST_CASE("each entry point checks hashWriting (deterministic)") {
  struct Case {
    const char* name;
    const char* msg;
    std::function<void(hmap*)> op;
  };
  const maptype* t = I64Map::type();
  auto st = gomap::Map<String, std::int64_t>::type();
  std::int64_t key = 1;
  std::vector<Case> cases = {
      {"mapassign_fast64", "concurrent map writes", [&](hmap* h) { mapassign_fast64(t, h, 1); }},
      {"mapassign", "concurrent map writes", [&](hmap* h) { mapassign(t, h, &key); }},
      {"mapdelete_fast64", "concurrent map writes", [&](hmap* h) { mapdelete_fast64(t, h, 1); }},
      {"mapdelete", "concurrent map writes", [&](hmap* h) { mapdelete(t, h, &key); }},
      {"mapclear", "concurrent map writes", [&](hmap* h) { mapclear(t, h); }},
      {"mapaccess1_fast64", "concurrent map read and map write", [&](hmap* h) { mapaccess1_fast64(t, h, 1); }},
      {"mapaccess1", "concurrent map read and map write", [&](hmap* h) { mapaccess1(t, h, &key); }},
      {"mapaccess2_faststr", "concurrent map read and map write",
       [&](hmap*) {
         auto s = gomap::Map<String, std::int64_t>::make();
         s.set(String::make("a"), 1);
         s.header()->flags |= hashWriting;
         bool ok;
         mapaccess2_faststr(st, s.header(), String::make("a"), &ok);
       }},
      {"mapiternext", "concurrent map iteration and map write",
       [&](hmap* h) {
         h->flags &= ~hashWriting;
         hiter it{};
         mapiterinit(t, h, &it);
         h->flags |= hashWriting;
         mapiternext(&it);
       }},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    ChildResult r = runChild([&] {
      set_invariant_checks(false);
      I64Map m = I64Map::make();
      for (std::int64_t i = 0; i < 20; i++) m.set(i, i);
      m.header()->flags |= hashWriting;  // as if another goroutine were writing
      c.op(m.header());
    });
    CHECK(r.status == 2);
    CHECK(r.err == std::string("fatal error: ") + c.msg + "\n");
  }
}
