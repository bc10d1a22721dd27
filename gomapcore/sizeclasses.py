"""Go 1.19's allocator size classes (runtime/sizeclasses.go, msize.go) as data.

makeBucketArray rounds a bucket array with preallocated overflow buckets up to
the allocator's size class and keeps the extra room as more overflow buckets, so
the length of an array in memory is a function of B, the bucket size and these
classes. Only the facts needed for that rounding are kept here.
"""
from __future__ import annotations

MAX_SMALL_SIZE = 32768   # _MaxSmallSize: larger objects get whole pages
PAGE_SIZE = 8192         # 1 << _PageShift

# class_to_size[1:]: the byte size of each small size class, ascending.
CLASS_SIZES = (
    8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
    288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
    1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
    6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432,
    19072, 20480, 21760, 24576, 27264, 28672, 32768,
)


def roundupsize(size: int) -> int:
    """The size mallocgc really allocates for a request of `size` bytes."""
    if size < MAX_SMALL_SIZE:
        for c in CLASS_SIZES:      # the smallest class that fits (tables are a lookup for this)
            if c >= size:
                return c
    return (size + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE


def bucket_array_len(B: int, bucketsize: int) -> int:
    """Buckets in the array makeBucketArray(B) allocates: 2^B, plus for B >= 4
    2^(B-4) preallocated overflow buckets, plus what the size-class rounding adds."""
    base = 1 << B
    if B < 4:
        return base
    n = base + (1 << (B - 4))
    sz = n * bucketsize
    up = roundupsize(sz)
    return up // bucketsize if up != sz else n
