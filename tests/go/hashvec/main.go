// hashvec prints the Go runtime's own map hashes of chosen keys, with the key
// material they were computed from, as one JSON object: the ground truth for
// gomapcore/gohash.py (tests/core/test_gohash.py). It calls the runtime's
// hash functions directly through go:linkname, both the path this machine
// takes (AES when runtime.useAeshash) and the portable fallbacks of hash64.go.
package main

import (
	"encoding/hex"
	"encoding/json"
	"math"
	"os"
	"unsafe"
)

//go:linkname useAeshash runtime.useAeshash
var useAeshash bool

//go:linkname aeskeysched runtime.aeskeysched
var aeskeysched [128]byte

//go:linkname hashkey runtime.hashkey
var hashkey [4]uintptr

//go:linkname memhash runtime.memhash
func memhash(p unsafe.Pointer, h, s uintptr) uintptr

//go:linkname memhash32 runtime.memhash32
func memhash32(p unsafe.Pointer, h uintptr) uintptr

//go:linkname memhash64 runtime.memhash64
func memhash64(p unsafe.Pointer, h uintptr) uintptr

//go:linkname strhash runtime.strhash
func strhash(p unsafe.Pointer, h uintptr) uintptr

//go:linkname f32hash runtime.f32hash
func f32hash(p unsafe.Pointer, h uintptr) uintptr

//go:linkname f64hash runtime.f64hash
func f64hash(p unsafe.Pointer, h uintptr) uintptr

//go:linkname c64hash runtime.c64hash
func c64hash(p unsafe.Pointer, h uintptr) uintptr

//go:linkname c128hash runtime.c128hash
func c128hash(p unsafe.Pointer, h uintptr) uintptr

//go:linkname memhashFallback runtime.memhashFallback
func memhashFallback(p unsafe.Pointer, h, s uintptr) uintptr

//go:linkname memhash32Fallback runtime.memhash32Fallback
func memhash32Fallback(p unsafe.Pointer, h uintptr) uintptr

//go:linkname memhash64Fallback runtime.memhash64Fallback
func memhash64Fallback(p unsafe.Pointer, h uintptr) uintptr

// One hash: which function, the key's bytes (hex), the seed, the result.
type vector struct {
	Fn   string `json:"fn"`
	Data string `json:"data"`
	Seed uint64 `json:"seed"`
	Hash uint64 `json:"hash"`
}

func main() {
	// Deterministic key bytes (xorshift), so that a failure can be replayed.
	buf := make([]byte, 400)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range buf {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		buf[i] = byte(x)
	}
	seeds := []uintptr{0, 1, 0x5bd1e995, 0xffffffff, 0x123456789abcdef0}
	var out []vector
	add := func(fn string, data []byte, seed uintptr, h uintptr) {
		out = append(out, vector{fn, hex.EncodeToString(data), uint64(seed), uint64(h)})
	}
	lengths := []int{}
	for n := 0; n <= 140; n++ {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 160, 255, 256, 257, 300, 383, 384, 385)
	for _, seed := range seeds {
		for _, n := range lengths {
			// Keys at every offset mod 16, so both of Go's loads of a short key
			// (direct, and ending at its last byte near a page end) are tried.
			k := buf[n%16 : n%16+n]
			p := unsafe.Pointer(&buf[0])
			if n > 0 {
				p = unsafe.Pointer(&k[0])
			}
			add("memhash", k, seed, memhash(p, seed, uintptr(n)))
			add("memhashFallback", k, seed, memhashFallback(p, seed, uintptr(n)))
			s := string(k)
			add("strhash", k, seed, strhash(unsafe.Pointer(&s), seed))
		}
		for i := 0; i < 8; i++ {
			w := buf[8*i : 8*i+8]
			add("memhash64", w, seed, memhash64(unsafe.Pointer(&w[0]), seed))
			add("memhash64Fallback", w, seed, memhash64Fallback(unsafe.Pointer(&w[0]), seed))
			add("memhash32", w[:4], seed, memhash32(unsafe.Pointer(&w[0]), seed))
			add("memhash32Fallback", w[:4], seed, memhash32Fallback(unsafe.Pointer(&w[0]), seed))
		}
		for _, f := range []float64{0, math.Copysign(0, -1), 1, -2.5, 1e300, math.Inf(1)} {
			b := make([]byte, 8)
			*(*float64)(unsafe.Pointer(&b[0])) = f
			add("f64hash", b, seed, f64hash(unsafe.Pointer(&f), seed))
			g := float32(f)
			c := make([]byte, 4)
			*(*float32)(unsafe.Pointer(&c[0])) = g
			add("f32hash", c, seed, f32hash(unsafe.Pointer(&g), seed))
			z := complex(f, 3)
			zb := make([]byte, 16)
			*(*complex128)(unsafe.Pointer(&zb[0])) = z
			add("c128hash", zb, seed, c128hash(unsafe.Pointer(&z), seed))
			z64 := complex64(z)
			zb64 := make([]byte, 8)
			*(*complex64)(unsafe.Pointer(&zb64[0])) = z64
			add("c64hash", zb64, seed, c64hash(unsafe.Pointer(&z64), seed))
		}
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"use_aes":     useAeshash,
		"aeskeysched": hex.EncodeToString(aeskeysched[:]),
		"hashkey":     hashkey,
		"vectors":     out,
	})
}
