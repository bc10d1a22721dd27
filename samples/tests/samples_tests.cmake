# CTest registration of the samples' expected-output tests (included from
# samples/CMakeLists.txt). Every check runs through expect.py, which checks the
# exit status, regexes over stdout/stderr and the GROUND lines' consistency.

set(PY /usr/bin/python3)
set(EXPECT ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/tests/expect.py)
set(TRACE_CHECK ${PY} ${CMAKE_CURRENT_SOURCE_DIR}/tests/check_grow_trace.py)

# sample_test(NAME <test> SAMPLE <target> [ARGS ...] [CHECKS ...])
function(sample_test)
  cmake_parse_arguments(T "" "NAME;SAMPLE" "ARGS;CHECKS" ${ARGN})
  add_test(NAME samples.${T_NAME}
           COMMAND ${EXPECT} ${T_CHECKS} -- $<TARGET_FILE:${T_SAMPLE}> ${T_ARGS})
  set_tests_properties(samples.${T_NAME} PROPERTIES TIMEOUT 120 LABELS samples)
endfunction()

# Every sample: --help, a bad option, the gdb auto-load section.
foreach(name IN LISTS GOMAP_SAMPLES)
  sample_test(NAME ${name}.help SAMPLE ${name} ARGS --help
              CHECKS --stdout "^Usage: ${name} \\[options\\]" --stdout=--seed)
  sample_test(NAME ${name}.bad_option SAMPLE ${name} ARGS --no-such-option
              CHECKS --status 2 --stderr-lines 1
                     --stderr "^${name}: unrecognised option '--no-such-option' \\(try --help\\)$")
  add_test(NAME samples.${name}.gdb_autoload
           COMMAND ${EXPECT} --stdout "\\] +.?${GOMAP_GDB_SCRIPT}$"
                   -- readelf -p .debug_gdb_scripts $<TARGET_FILE:${name}>)
  set_tests_properties(samples.${name}.gdb_autoload PROPERTIES LABELS samples)
endforeach()
sample_test(NAME grow.bad_value SAMPLE grow ARGS --keys lots
            CHECKS --status 2 --stderr-lines 1 --stderr "^grow: .*'--keys'.*\\(try --help\\)$")
sample_test(NAME grow.bad_key_type SAMPLE grow ARGS --key-type complex128
            CHECKS --status 2 --stderr-lines 1 --stderr "^grow: --key-type must be one of")
sample_test(NAME grow.bad_seed SAMPLE grow ARGS --seed -1
            CHECKS --status 2 --stderr-lines 1 --stderr "^grow: --seed must be in")

# --- pass_to_function, copy_shares ---------------------------------------------
sample_test(NAME pass_to_function SAMPLE pass_to_function ARGS --seed 1 --dump
  CHECKS --ground 6
    --stdout "main: before +hmap (0x[0-9a-f]+) len 2: a=1 b=2\n(?s:.*?)modify: after writes +hmap \\1 len 1: a=100\n"
    --stdout "modify: reassigned +hmap 0x[0-9a-f]+ len 1: c=3\n"
    --stdout "main: after modify +hmap 0x[0-9a-f]+ len 1: a=100\n"
    --stdout "main: after replace +hmap 0x[0-9a-f]+ len 1: z=26\n")
sample_test(NAME copy_shares SAMPLE copy_shares ARGS --seed 1 --dump
  CHECKS --ground 3
    --stdout "m1: hmap (0x[0-9a-f]+) .*\nm2: hmap \\1 "
    --stdout "m1 and m2 share the hmap: yes\\x3b m1\\[\"shared\"\\] = 1$"
    --stdout "m3 has its own hmap: yes$"
    --stdout "len\\(m1\\) = 5, len\\(m2\\) = 5, len\\(m3\\) = 7\\x3b m1 has only-in-m3: no, m3 has shared: yes$")

# --- grow ------------------------------------------------------------------------
sample_test(NAME grow SAMPLE grow ARGS --seed 1 --keys 300
  CHECKS --stdout "^insert 9: grow starts, B 0 -> 1 \\(and finishes in the same insert\\)$"
         --stdout "^insert 14: grow starts, B 1 -> 2"
         --stdout "^insert 27: grow starts, B 2 -> 3$"
         --stdout "^insert 2[89]: grow done, B = 3$"
         --stdout "^insert 209: grow starts, B 5 -> 6$"
         --stdout "count=300 B=6 ")
sample_test(NAME grow.dump SAMPLE grow ARGS --seed 2 --keys 120 --dump
  CHECKS --ground 10
         --ground-expect "mid-grow oldbuckets != null"
         --ground-expect "grow-done oldbuckets == null"
         --ground-expect "done count == 120")
foreach(kt uint64 int64 string float64 big)
  add_test(NAME samples.grow.trace.${kt}
           COMMAND ${TRACE_CHECK} -- $<TARGET_FILE:grow> --trace --seed 7 --keys 2000 --key-type ${kt})
  set_tests_properties(samples.grow.trace.${kt} PROPERTIES TIMEOUT 120 LABELS samples)
endforeach()
add_test(NAME samples.grow.trace.hint
         COMMAND ${TRACE_CHECK} --hint 100 -- $<TARGET_FILE:grow> --trace --seed 3 --keys 1000 --hint 100)
# The checker must be able to fail: a trace whose second grow starts one insert late.
add_test(NAME samples.grow.trace.checker_rejects_late_grow
         COMMAND ${TRACE_CHECK} --file ${CMAKE_CURRENT_SOURCE_DIR}/tests/late_grow.trace)
set_tests_properties(samples.grow.trace.hint samples.grow.trace.checker_rejects_late_grow
                     PROPERTIES TIMEOUT 120 LABELS samples)
set_tests_properties(samples.grow.trace.checker_rejects_late_grow PROPERTIES WILL_FAIL TRUE)

# --- fast paths ------------------------------------------------------------------
sample_test(NAME fast64 SAMPLE fast64 ARGS --seed 1 --dump
  CHECKS --ground 4
         --stdout "^inserted: len 20, B 2$"
         --stdout "^lookups: 10 found with the right value, 10 absent$"
         --stdout "^deleted every third key \\(7\\): len 13$"
         --ground-expect "after-loop count == 20")
sample_test(NAME faststr SAMPLE faststr ARGS --seed 1 --dump
  CHECKS --ground 5
         --stdout "^inserted: len 21, B 2$"
         --stdout "^updated k0: m\\[\"k0\"\\] = 100, len 21$"
         --stdout "^lookup \"k\": ok=false v=0$"
         --stdout "^deleted k1: len 20$"
         --stdout "GROUND \\{\"checkpoint\": \"after-update\".*\\[\"k0\", 100\\]")

# --- iterate ---------------------------------------------------------------------
foreach(kt uint64 string float64 big)
  sample_test(NAME iterate.${kt} SAMPLE iterate ARGS --seed 5 --keys 12 --key-type ${kt} --dump
    CHECKS --ground 7
           --stdout "^same order twice: no\\x3b same keys: yes$"
           --stdout "^loop during the grow: ([0-9]+) entries produced, \\1 distinct, len \\1$"
           --stdout "^delete loop: visited [0-9]+, deleted [0-9]+ ahead of the loop, [0-9]+ \\+ [0-9]+ = 12, len now 0$"
           --no-stdout "BUG"
           --ground-expect "mid-grow oldbuckets != null"
           --ground-expect "in-grow-loop oldbuckets != null")
endforeach()

# --- nil map -----------------------------------------------------------------------
sample_test(NAME nil_map SAMPLE nil_map ARGS --seed 1
  CHECKS --stdout "^m is nil: true, len\\(m\\) = 0$"
         --stdout "^m\\[\"answer\"\\] = 0$"
         --stdout "^v, ok := m\\[\"answer\"\\] -> 0, false$"
         --stdout "^for range m: 0 iterations$"
         --stdout "^recovered: assignment to entry in nil map$"
         --stdout "^after make: len\\(m\\) = 1, m\\[\"answer\"\\] = 42$")
sample_test(NAME nil_map.no_recover SAMPLE nil_map ARGS --no-recover
  CHECKS --status 2 --stderr "^panic: assignment to entry in nil map$" --no-stdout "^written$")

# --- concurrent writes ---------------------------------------------------------------
sample_test(NAME concurrent_writes SAMPLE concurrent_writes ARGS --seed 1
  CHECKS --status 2 --stderr "^fatal error: concurrent map writes$" --no-stdout "^finished")
sample_test(NAME concurrent_writes.safe SAMPLE concurrent_writes ARGS --seed 1 --safe --keys 50000
  CHECKS --stdout "^finished: len 100000 \\(expected 100000\\)$")

# --- churn, big values, many maps, NaN keys ------------------------------------------
sample_test(NAME churn SAMPLE churn ARGS --seed 1 --dump
  CHECKS --ground 2
         --stdout "^step [0-9]+: same-size grow at B=3, noverflow was [0-9]+$"
         --stdout "^len 50, B 3, noverflow [0-9]+$"
         --stdout "^doubling grows: 3, same-size grows: [1-9][0-9]*$"
         --ground-expect "same-size-grow-start flags >= 8"
         --ground-expect "done count == 50")
sample_test(NAME big_values SAMPLE big_values ARGS --seed 1 --dump
  CHECKS --ground 3
         --stdout "^big_values: map\\[main.BigKey\\]main.BigValue, sizeof key 136, sizeof elem 200$"
         --stdout "^slots: keysize 8, elemsize 8, bucketsize 144, indirectkey yes, indirectelem yes$"
         --stdout "^inserted 20: len 20, B 2\\x3b live indirect keys 20, elems 20$"
         --stdout "^m\\[key 19\\].id = 190 \\(ok=true\\)$"
         --stdout "^deleted the even keys: len 10\\x3b "
         --stdout "GROUND \\{\"checkpoint\": \"filled\".*\\[19, 190\\]")
sample_test(NAME many_maps SAMPLE many_maps ARGS --seed 1 --dump
  CHECKS --ground 7
         --no-stdout "DISAGREE"
         --stdout "agree with the records"
         --ground-expect "created heap.by_role.hmap.live.count == 8"
         --ground-expect "grown heap.by_role.buckets.unreachable.count >= 8"
         --ground-expect "collected heap.unreachable.count == 0"
         --ground-expect "dropped heap.by_role.hmap.unreachable.count == 4"
         --ground-expect "pinned heap.by_role.buckets.unreachable.count == 1"
         --ground-expect "unpinned heap.by_role.buckets.unreachable.count == 0"
         --ground-expect "done heap.live.count == 0"
         --ground-expect "done heap.unreachable.count == 0")
# Freed memory pushed through the 64 MiB quarantine: with a history of 1000
# reused records, the first collection already forgets the oldest.
sample_test(NAME many_maps.history SAMPLE many_maps
  ARGS --seed 1 --dump --maps 2 --keys 1000000 --heap-history 1000
  CHECKS --ground 7
         --no-stdout "DISAGREE"
         --stdout "^  forgotten: [0-9]+ older freed allocations"
         --ground-expect "grown heap.forgotten.count == 0"
         --ground-expect "collected heap.forgotten.count >= 30000"
         --ground-expect "done heap.records <= 2000")
sample_test(NAME many_maps.bad_history SAMPLE many_maps ARGS --heap-history -1
            CHECKS --status 2 --stderr-lines 1 --stderr "^many_maps: --heap-history must not be negative$")
sample_test(NAME nan_keys SAMPLE nan_keys ARGS --seed 1 --dump
  CHECKS --ground 5
         --stdout "^m\\[\\+0\\] = 1\\x3b m\\[-0\\] = 2 -> m\\[\\+0\\] = 2, stored key is -0$"
         --stdout "3 inserts made 3 entries\\x3b lookup NaN: ok=false$"
         --stdout "^delete\\(m, NaN\\): len still 4$"
         --stdout "^delete\\(m, -0\\): removes the zero key, len 3$"
         --stdout "^clear\\(m\\): len 0$"
         --ground-expect "nans count == 4"
         --ground-expect "cleared count == 0")

# --- the checkpoint is where a debugger stops, with the sample's map one frame up ----
# Only in unoptimised builds: at -O2 the caller's `m` may be optimised away.
if(CMAKE_BUILD_TYPE STREQUAL "Debug")
find_program(GDB gdb)
if(GDB)
  add_test(NAME samples.grow.gdb_checkpoint
           COMMAND ${EXPECT} --stdout "^\\$1 = 0x[0-9a-f]+ \"grow-start\"$" --stdout "^\\$2 = 9$"
                   -- ${GDB} -nx -batch -ex "break checkpoint" -ex run -ex "print what" -ex up -ex "print m.h->count"
                      --args $<TARGET_FILE:grow> --seed 1 --keys 20)
  # The GROUND line printed before a checkpoint is the memory gdb reads there.
  add_test(NAME samples.grow.gdb_ground_matches_memory
           COMMAND ${EXPECT}
                   --stdout "GROUND \\{\"checkpoint\": \"mid-grow\", .*\"count\": ([0-9]+), \"B\": ([0-9]+), \"flags\": ([0-9]+), .*\"nevacuate\": ([0-9]+), (?s:.*)\\$1 = \\1\n\\$2 = \\2\n\\$3 = \\3\n\\$4 = \\4\n"
                   -- ${GDB} -nx -batch -ex "break checkpoint if \$_streq(what, \"mid-grow\")" -ex run -ex up
                      -ex "print m.h->count" -ex "print (int)m.h->B" -ex "print (int)m.h->flags"
                      -ex "print m.h->nevacuate"
                      --args $<TARGET_FILE:grow> --seed 2 --keys 60 --dump)
  set_tests_properties(samples.grow.gdb_checkpoint samples.grow.gdb_ground_matches_memory
                       PROPERTIES TIMEOUT 120 LABELS samples)
endif()
find_program(LLDB lldb-16)
if(LLDB AND EXISTS /usr/lib/llvm-16/bin/lldb-server)
  add_test(NAME samples.grow.lldb_checkpoint
           COMMAND ${EXPECT} --stdout "^\\(const char \\*\\) \\$0 = 0x[0-9a-f]+ \"grow-start\"$"
                   --stdout "^\\(int64_t\\) \\$1 = 9$"
                   -- ${LLDB} -b -o "b checkpoint" -o run -o "p what" -o up -o "p m.h->count"
                      -- $<TARGET_FILE:grow> --seed 1 --keys 20)
  set_tests_properties(samples.grow.lldb_checkpoint PROPERTIES TIMEOUT 120 LABELS samples
                       ENVIRONMENT LLDB_DEBUGSERVER_PATH=/usr/lib/llvm-16/bin/lldb-server)
endif()
endif()  # Debug
