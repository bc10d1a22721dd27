// Command gobench is Go 1.19's own map on the workloads of bench/engine_bench.
//
// Same keys (splitmix64, same seeds), same workloads, same checksums and the
// same TSV lines as engine_bench, so bench/report.py can put the engine and Go
// side by side and check that both computed the same thing. Keep in step with
// bench/workload.h. Standard library only.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// The clock: process CPU time by default (all threads, so the collector's
// background work counts), as engine_bench measures; -clock=wall for wall time.
var wallClock bool

func nowNs() float64 {
	if wallClock {
		return float64(time.Now().UnixNano())
	}
	var ts syscall.Timespec
	const clockProcessCputimeID = 2
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCputimeID, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		panic("clock_gettime: " + e.Error())
	}
	return float64(ts.Sec)*1e9 + float64(ts.Nsec)
}

type splitMix64 struct{ state uint64 }

func (r *splitMix64) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

const (
	keySeed     = 1
	shuffleSeed = 2
)

func sequentialKeys(n int) []uint64 {
	k := make([]uint64, n)
	for i := range k {
		k[i] = uint64(i)
	}
	return k
}

func randomKeys(n int) []uint64 {
	r := splitMix64{keySeed}
	k := make([]uint64, n)
	for i := range k {
		k[i] = r.next()
	}
	return k
}

func stringKeys(n int) []string {
	s := make([]string, n)
	for i, x := range randomKeys(n) {
		s[i] = strconv.FormatUint(x, 10)
	}
	return s
}

func shuffledOrder(n int) []uint32 {
	p := make([]uint32, n)
	for i := range p {
		p[i] = uint32(i)
	}
	r := splitMix64{shuffleSeed}
	for i := n; i > 1; i-- {
		j := r.next() % uint64(i)
		p[i-1], p[j] = p[j], p[i-1]
	}
	return p
}

func valueFor(i int) uint64 { return uint64(i) + 1 }

func foldLookup(acc, v uint64) uint64 { return acc*0x100000001b3 + v }

func foldIter(acc, k, v uint64) uint64 { return acc + ((k^0x9e3779b97f4a7c15)*v + v) }

func stringDigest(s string) uint64 {
	var last uint64
	if len(s) > 0 {
		last = uint64(s[len(s)-1])
	}
	return uint64(len(s))<<8 | last
}

type result struct {
	keytype, workload string
	n                 int
	ns                []float64
	checksum          uint64
	stable            bool
}

type runner struct {
	reps    int
	minMs   float64 // more reps (up to maxReps) until the workload has run this long
	only    string
	results []result
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[(len(s)-1)/2]
}

// As engine_bench: past -reps, a short workload runs again (up to maxReps) until
// it has run -min-ms in all, so that its median is not five hiccups.
const maxReps = 25

// measure times body reps times; setup and teardown run outside the clock.
// A collection before each rep starts every rep from the same heap; the
// collections the body itself triggers are Go's real cost and stay in.
func (r *runner) measure(keytype, workload string, n int, setup func(), body func() uint64, teardown func()) {
	if r.only != "" && !strings.Contains(workload, r.only) {
		return
	}
	res := result{keytype: keytype, workload: workload, n: n, stable: true}
	total := 0.0
	for rep := 0; rep < r.reps || (r.minMs > 0 && rep < maxReps && total < r.minMs*1e6); rep++ {
		if setup != nil {
			setup()
		}
		runtime.GC()
		t0 := nowNs()
		c := body()
		el := nowNs() - t0
		if teardown != nil {
			teardown()
		}
		if rep == 0 {
			res.checksum = c
		} else if c != res.checksum {
			res.stable = false
		}
		res.ns = append(res.ns, el)
		total += el
	}
	fmt.Fprintf(os.Stderr, "  %-13s %-6s %-16s n=%-9d %9.2f ms\n", "go", keytype, workload, n, median(res.ns)/1e6)
	r.results = append(r.results, res)
}

func (r *runner) readsWanted() bool {
	return r.only == "" || strings.Contains("lookup_inorder lookup_shuffled iterate", r.only)
}

func (r *runner) runU64(n int) {
	seq, keys, order := sequentialKeys(n), randomKeys(n), shuffledOrder(n)
	var m map[uint64]uint64
	fill := func(ks []uint64) uint64 {
		m = make(map[uint64]uint64) // no hint
		for i, k := range ks {
			m[k] = valueFor(i)
		}
		return uint64(len(m))
	}
	drop := func() { m = nil }
	r.measure("uint64", "insert_seq", n, nil, func() uint64 { return fill(seq) }, drop)
	r.measure("uint64", "insert_rand", n, nil, func() uint64 { return fill(keys) }, drop)
	if r.readsWanted() {
		fill(keys)
		r.measure("uint64", "lookup_inorder", n, nil, func() uint64 {
			var acc uint64
			for _, k := range keys {
				acc = foldLookup(acc, m[k])
			}
			return acc
		}, nil)
		r.measure("uint64", "lookup_shuffled", n, nil, func() uint64 {
			var acc uint64
			for _, i := range order {
				acc = foldLookup(acc, m[keys[i]])
			}
			return acc
		}, nil)
		r.measure("uint64", "iterate", n, nil, func() uint64 {
			var acc uint64
			for k, v := range m {
				acc = foldIter(acc, k, v)
			}
			return acc
		}, nil)
		drop()
	}
	r.measure("uint64", "delete", n, func() { fill(keys) }, func() uint64 {
		for _, k := range keys {
			delete(m, k)
		}
		return uint64(n - len(m))
	}, drop)
}

func (r *runner) runStr(n int) {
	keys, order := stringKeys(n), shuffledOrder(n)
	var m map[string]uint64
	fill := func() uint64 {
		m = make(map[string]uint64)
		for i, k := range keys {
			m[k] = valueFor(i)
		}
		return uint64(len(m))
	}
	drop := func() { m = nil }
	r.measure("string", "insert_rand", n, nil, fill, drop)
	if r.readsWanted() {
		fill()
		r.measure("string", "lookup_inorder", n, nil, func() uint64 {
			var acc uint64
			for _, k := range keys {
				acc = foldLookup(acc, m[k])
			}
			return acc
		}, nil)
		r.measure("string", "lookup_shuffled", n, nil, func() uint64 {
			var acc uint64
			for _, i := range order {
				acc = foldLookup(acc, m[keys[i]])
			}
			return acc
		}, nil)
		r.measure("string", "iterate", n, nil, func() uint64 {
			var acc uint64
			for k, v := range m {
				acc = foldIter(acc, stringDigest(k), v)
			}
			return acc
		}, nil)
		drop()
	}
	r.measure("string", "delete", n, func() { fill() }, func() uint64 {
		for _, k := range keys {
			delete(m, k)
		}
		return uint64(n - len(m))
	}, drop)
}

func parseSizes(flagName, s string) []int {
	var out []int
	for _, item := range strings.Split(s, ",") {
		if item == "" {
			continue
		}
		v, err := strconv.Atoi(item)
		if err != nil || v < 1 || v > 100000000 {
			fmt.Fprintf(os.Stderr, "gobench: bad %s size %q: want 1..100000000\n", flagName, item)
			os.Exit(2)
		}
		out = append(out, v)
	}
	return out
}

func main() {
	sizes := flag.String("sizes", "1000000", "uint64-key map sizes, comma-separated")
	strSizes := flag.String("str-sizes", "1000000", "string-key map sizes (empty: none)")
	reps := flag.Int("reps", 5, "repetitions per workload (median reported)")
	minMs := flag.Float64("min-ms", 0, "then more reps (up to 25) until a workload has run this many ms")
	only := flag.String("only", "", "only workloads whose name contains this")
	clock := flag.String("clock", "cpu", "cpu (process CPU time) or wall")
	smoke := flag.Bool("smoke", false, "tiny sizes, one rep (the sizes engine_bench --smoke uses)")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gobench: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if *clock != "cpu" && *clock != "wall" {
		fmt.Fprintf(os.Stderr, "gobench: bad -clock %q: want cpu or wall\n", *clock)
		os.Exit(2)
	}
	wallClock = *clock == "wall"
	u64, str := parseSizes("-sizes", *sizes), parseSizes("-str-sizes", *strSizes)
	if *smoke {
		u64, str, *reps = []int{1000, 20000}, []int{1000, 5000}, 1
	}
	if *reps < 1 || *reps > 1000 {
		fmt.Fprintf(os.Stderr, "gobench: bad -reps %d: want 1..1000\n", *reps)
		os.Exit(2)
	}
	if *minMs < 0 || *minMs > 60000 {
		fmt.Fprintf(os.Stderr, "gobench: bad -min-ms %v: want 0..60000\n", *minMs)
		os.Exit(2)
	}
	r := &runner{reps: *reps, minMs: *minMs, only: *only}
	for _, n := range u64 {
		r.runU64(n)
	}
	for _, n := range str {
		r.runStr(n)
	}
	fmt.Println("# peer\tkeytype\tworkload\tn\tmedian_ns\tmin_ns\treps\tchecksum")
	for _, x := range r.results {
		mn := x.ns[0]
		for _, v := range x.ns {
			if v < mn {
				mn = v
			}
		}
		fmt.Printf("go\t%s\t%s\t%d\t%.0f\t%.0f\t%d\t%d\n", x.keytype, x.workload, x.n, median(x.ns), mn, len(x.ns), x.checksum)
	}
	for _, x := range r.results {
		if !x.stable {
			fmt.Fprintf(os.Stderr, "gobench: %s/%s/%d: checksum changed between reps\n", x.keytype, x.workload, x.n)
			os.Exit(1)
		}
	}
}
