// nan_keys — float keys: +0 and -0 are one key; NaN is never equal to itself.
//
// Map keys are compared with ==. For floats +0.0 == -0.0, so they are the same
// key (and hash alike); Go's maptype says needkeyupdate, so assigning through
// -0.0 overwrites the stored key's bits too. NaN != NaN, so every m[NaN] = v
// adds a new entry that no lookup can find and no delete can remove; only a
// loop sees them, and only clearing the map removes them (the hash of a NaN
// is random, so they scatter over the buckets).
//
// Checkpoints: "zeros", "nans", "after-delete", "cleared", "done".
#include <cmath>
#include <limits>

#include "common.h"

namespace {

void show(const gomap::Map<double, std::int64_t>& m) {
  std::printf("  len %lld:", (long long)m.len());
  for (auto [k, v] : m) std::printf(" %s:%lld", samples::json_of(k).c_str(), (long long)v);
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::int64_t nans = 3;
  samples::Cli cli("nan_keys", "Float keys: +0/-0 are one key, every NaN is a new one.");
  cli.dump();
  cli.desc().add_options()("nans", samples::po::value(&nans)->default_value(nans),
                           "how many NaN keys to insert");
  cli.parse(argc, argv);
  const double nan = std::numeric_limits<double>::quiet_NaN();

  auto m = gomap::Map<double, std::int64_t>::make();
  m.set(+0.0, 1);
  m.set(-0.0, 2);  // the same key as +0.0: updates the value, and the key's sign
  std::printf("m[+0] = 1; m[-0] = 2 -> m[+0] = %lld, stored key is %s0\n",
              (long long)m.get(0.0), std::signbit((*m.begin()).first) ? "-" : "+");
  show(m);
  CHECKPOINT("zeros", m);

  for (std::int64_t i = 0; i < nans; ++i) m.set(nan, 100 + i);
  auto [v, ok] = m.lookup(nan);
  std::printf("m[NaN] = 100..%lld: %lld inserts made %lld entries; lookup NaN: ok=%s\n",
              (long long)(100 + nans - 1), (long long)nans, (long long)(m.len() - 1),
              ok ? "true" : "false");
  (void)v;
  show(m);
  CHECKPOINT("nans", m);

  m.erase(nan);
  std::printf("delete(m, NaN): len still %lld\n", (long long)m.len());
  m.erase(-0.0);
  std::printf("delete(m, -0): removes the zero key, len %lld\n", (long long)m.len());
  CHECKPOINT("after-delete", m);

  m.clear();
  std::printf("clear(m): len %lld\n", (long long)m.len());
  CHECKPOINT("cleared", m);
  CHECKPOINT("done", m);
}
