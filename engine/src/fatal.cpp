// fatal.cpp — Go's unrecoverable `fatal error: <msg>`.
//
// Go prints the message and exits with status 2 without running deferred
// code; the equivalent here is write(2) and _exit(2): no destructors, no
// atexit handlers, so another thread still inside the map cannot make the
// exit itself crash.
#include <unistd.h>

#include <cstring>
#include <string>

#include "gomap/runtime.h"

namespace gomap {

void fatal(const char* msg) {
  std::string line = "fatal error: ";
  line += msg;
  line += '\n';
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(2, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  ::_exit(2);
}

}  // namespace gomap
