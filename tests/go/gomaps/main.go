// Command gomaps builds one map situation, prints its own ground truth as a
// single line "GROUND <json>" and then stops in a non-inlined checkpoint
// function whose parameter m is the map, so that a debugger breaking there can
// compare what it decodes with what the program itself saw.
//
// Usage: gomaps <situation> [-n N]
//
// Situations: small, large, midgrow, samesize, deleted, iterator, strkeys,
// structvals, bigkeys, rewrite. Only the standard library is used (GOPROXY=off).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"unsafe"
)

// hmap mirrors runtime.hmap (Go 1.19, runtime/map.go) so the program can report
// the header fields exactly as the runtime holds them.
type hmap struct {
	count      int
	flags      uint8
	B          uint8
	noverflow  uint16
	hash0      uint32
	buckets    unsafe.Pointer
	oldbuckets unsafe.Pointer
	nevacuate  uintptr
	extra      unsafe.Pointer
}

// Flag bits of hmap.flags, as in runtime/map.go.
const (
	flagIterator     = 1
	flagOldIterator  = 2
	flagSameSizeGrow = 8
)

// header reads the *hmap that a map value is.
func header(m unsafe.Pointer) *hmap {
	return *(**hmap)(m)
}

type entry struct {
	K any `json:"k"`
	V any `json:"v"`
}

type ground struct {
	Situation  string  `json:"situation"`
	Type       string  `json:"type"`
	Func       string  `json:"func"`
	Hmap       uintptr `json:"hmap"`
	Count      int     `json:"count"`
	Flags      uint8   `json:"flags"`
	B          uint8   `json:"B"`
	Noverflow  uint16  `json:"noverflow"`
	Hash0      uint32  `json:"hash0"`
	Buckets    uintptr `json:"buckets"`
	Oldbuckets uintptr `json:"oldbuckets"`
	Nevacuate  uintptr `json:"nevacuate"`
	Len        int     `json:"len"`
	Entries    []entry `json:"entries"`
}

func emit(situation, fn string, typ string, mp unsafe.Pointer, n int, entries []entry) {
	g := ground{Situation: situation, Type: typ, Func: fn, Len: n, Entries: entries}
	if h := header(mp); h != nil {
		g.Hmap = uintptr(unsafe.Pointer(h))
		g.Count, g.Flags, g.B, g.Noverflow, g.Hash0 = h.count, h.flags, h.B, h.noverflow, h.hash0
		g.Buckets, g.Oldbuckets, g.Nevacuate = uintptr(h.buckets), uintptr(h.oldbuckets), h.nevacuate
	}
	out, err := json.Marshal(g)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gomaps:", err)
		os.Exit(1)
	}
	os.Stdout.Write([]byte("GROUND "))
	os.Stdout.Write(out)
	os.Stdout.Write([]byte("\n"))
}

// Big keys and elements (over maxKeySize/maxElemSize = 128 bytes) are stored
// indirectly: the bucket holds pointers to them.
type BigKey struct {
	ID  int64
	Pad [128]byte
}

type BigVal struct {
	Sum  int64
	Tail [130]byte
}

type Rec struct {
	A int64
	B string
	C bool
	D float64
	E int8
}

// sink keeps checkpoints from being optimised into nothing.
var sink int

// units is a package-level map: a debugger finds it by its full name
// (main.units) at a DW_OP_addr location, in any frame.
var units = map[string]int{"one": 1, "two": 2, "three": 3}

// Each map type has its own checkpoint so that the parameter m has a concrete
// map type in DWARF (generic functions would give it a shape type).

//go:noinline
func checkpointStrInt(m map[string]int) { sink += len(m) }

//go:noinline
func checkpointInt64(m map[int64]int64) { sink += len(m) }

//go:noinline
func checkpointStrStr(m map[string]string) { sink += len(m) }

//go:noinline
func checkpointRec(m map[int32]Rec) { sink += len(m) }

//go:noinline
func checkpointBig(m map[BigKey]BigVal) { sink += len(m) }

// collect looks up every key ever inserted instead of ranging over m: a range
// would start an iterator and set the iterator flags the tests compare.
func collect[K comparable, V any](m map[K]V, keys []K) []entry {
	es := make([]entry, 0, len(m))
	seen := make(map[K]bool, len(keys))
	for _, k := range keys {
		if v, ok := m[k]; ok && !seen[k] {
			seen[k] = true
			es = append(es, entry{k, v})
		}
	}
	return es
}

func growing(m map[int64]int64) bool {
	return header(unsafe.Pointer(&m)).oldbuckets != nil
}

func main() {
	n := flag.Int("n", 0, "number of entries (0: the situation's default)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: gomaps small|large|midgrow|samesize|deleted|iterator|strkeys|structvals|bigkeys [-n N]")
	}
	if len(os.Args) < 2 {
		flag.Usage()
		os.Exit(2)
	}
	situation := os.Args[1]
	sink += len(units)
	flag.CommandLine.Parse(os.Args[2:])
	size := func(def int) int {
		if *n > 0 {
			return *n
		}
		return def
	}
	var ikeys []int64
	put := func(m map[int64]int64, k, v int64) {
		m[k] = v
		ikeys = append(ikeys, k)
	}

	switch situation {
	case "small":
		m := map[string]int{"alpha": 1, "beta": 2, "gamma": 3, "delta": 4, "epsilon": 5}
		keys := []string{"alpha", "beta", "gamma", "delta", "epsilon"}
		emit(situation, "main.checkpointStrInt", fmt.Sprintf("%T", m), unsafe.Pointer(&m), len(m), collect(m, keys))
		checkpointStrInt(m)

	case "large":
		m := make(map[int64]int64)
		for i := 0; i < size(100000); i++ {
			put(m, int64(i)*7919, int64(i))
		}
		emit(situation, "main.checkpointInt64", fmt.Sprintf("%T", m), unsafe.Pointer(&m), len(m), collect(m, ikeys))
		checkpointInt64(m)

	case "midgrow":
		// Insert until a doubling grow has started, then a few more writes so
		// that some old buckets are evacuated and most are not.
		m := make(map[int64]int64)
		i := int64(0)
		for ; i < int64(size(100000)) || !growing(m); i++ {
			put(m, i*7919, i)
		}
		for extra := 0; extra < 50 && growing(m); extra++ {
			put(m, i*7919, i)
			i++
		}
		if !growing(m) {
			fmt.Fprintln(os.Stderr, "gomaps: grow finished too early")
			os.Exit(1)
		}
		emit(situation, "main.checkpointInt64", fmt.Sprintf("%T", m), unsafe.Pointer(&m), len(m), collect(m, ikeys))
		checkpointInt64(m)

	case "samesize":
		// Churn: deletes leave holes that later inserts of other keys do not
		// always reuse, so overflow buckets pile up until tooManyOverflowBuckets
		// starts a same-size grow.
		m := make(map[int64]int64)
		live := size(200)
		next := int64(0)
		for ; next < int64(live); next++ {
			m[next] = next
		}
		found := false
		for step := 0; step < 10000000; step++ {
			delete(m, next-int64(live))
			m[next] = next
			next++
			h := header(unsafe.Pointer(&m))
			if h.flags&flagSameSizeGrow != 0 && h.oldbuckets != nil {
				found = true
				break
			}
		}
		if !found {
			fmt.Fprintln(os.Stderr, "gomaps: no same-size grow seen")
			os.Exit(1)
		}
		for k := next - int64(live); k < next; k++ {
			ikeys = append(ikeys, k)
		}
		emit(situation, "main.checkpointInt64", fmt.Sprintf("%T", m), unsafe.Pointer(&m), len(m), collect(m, ikeys))
		checkpointInt64(m)

	case "deleted":
		m := make(map[int64]int64)
		for i := int64(0); i < int64(size(300)); i++ {
			put(m, i, i*i)
		}
		for i := int64(0); i < int64(size(300)); i += 3 {
			delete(m, i)
		}
		emit(situation, "main.checkpointInt64", fmt.Sprintf("%T", m), unsafe.Pointer(&m), len(m), collect(m, ikeys))
		checkpointInt64(m)

	case "iterator":
		// Stop inside a range loop: the iterator flags are set, and inserting
		// from inside the loop starts a grow while an iterator may still read
		// the old buckets (oldIterator), so evacuation must keep old cells.
		m := make(map[int64]int64)
		for i := int64(0); i < int64(size(1000)); i++ {
			put(m, i, -i)
		}
		next := int64(size(1000))
		for k := range m {
			_ = k
			for !growing(m) {
				put(m, next, -next)
				next++
			}
			put(m, next, -next) // one more write: growWork with oldIterator set
			next++
			emit(situation, "main.checkpointInt64", fmt.Sprintf("%T", m), unsafe.Pointer(&m), len(m), collect(m, ikeys))
			checkpointInt64(m)
			break
		}

	case "strkeys":
		m := make(map[string]string)
		keys := []string{""}
		m[""] = "empty key"
		for i := 0; i < size(500); i++ {
			k := "key-" + strconv.Itoa(i)
			if i%7 == 0 {
				k += "-a-rather-longer-key-to-see-longer-strings-" + strconv.Itoa(i*i)
			}
			m[k] = "v" + strconv.Itoa(i*3)
			keys = append(keys, k)
		}
		emit(situation, "main.checkpointStrStr", fmt.Sprintf("%T", m), unsafe.Pointer(&m), len(m), collect(m, keys))
		checkpointStrStr(m)

	case "structvals":
		m := make(map[int32]Rec)
		keys := []int32{}
		for i := int32(0); i < int32(size(100)); i++ {
			m[i-50] = Rec{A: int64(i) << 40, B: "rec" + strconv.Itoa(int(i)), C: i%2 == 0, D: float64(i) / 4, E: int8(-i)}
			keys = append(keys, i-50)
		}
		emit(situation, "main.checkpointRec", fmt.Sprintf("%T", m), unsafe.Pointer(&m), len(m), collect(m, keys))
		checkpointRec(m)

	case "bigkeys":
		m := make(map[BigKey]BigVal)
		keys := []BigKey{}
		for i := int64(0); i < int64(size(40)); i++ {
			var k BigKey
			k.ID = i
			for j := range k.Pad {
				k.Pad[j] = byte(int(i) + j)
			}
			var v BigVal
			v.Sum = i * 1000
			v.Tail[129] = byte(i)
			m[k] = v
			keys = append(keys, k)
		}
		// Only the distinguishing fields go into the ground truth.
		es := []entry{}
		for _, e := range collect(m, keys) {
			es = append(es, entry{e.K.(BigKey).ID, e.V.(BigVal).Sum})
		}
		emit(situation, "main.checkpointBig", fmt.Sprintf("%T", m), unsafe.Pointer(&m), len(m), es)
		checkpointBig(m)

	case "rewrite":
		// N keys, a checkpoint, then every one of them written again and three
		// new ones after: `gomap break assign --new-key` stops on the new ones only.
		m := make(map[int64]int64)
		n := int64(size(20))
		for i := int64(0); i < n; i++ {
			put(m, i, i)
		}
		checkpointInt64(m)
		for i := int64(0); i < n; i++ {
			m[i] = -i
		}
		for i := n; i < n+3; i++ {
			m[i] = i
		}
		checkpointInt64(m)

	default:
		flag.Usage()
		os.Exit(2)
	}
	fmt.Println("DONE")
}
