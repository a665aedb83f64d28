"""Keep a long-running process's memory from creeping up: glibc's allocator held to a fixed mmap threshold."""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # mallopt's parameter number in glibc's malloc.h
MMAP_THRESHOLD_BYTES = 128 * 1024


def hold_malloc_mmap_threshold(threshold: int = MMAP_THRESHOLD_BYTES) -> bool:
    """Allocations of ``threshold`` bytes or more get their own mmap, returned to the system when freed.

    By default glibc raises the threshold (up to 32 MB) each time a large block is freed, so the
    encoder's batch buffers then come from the heap and stay there: a bot grew from 250 to 550-700 MB
    over three questions. Same as ``MALLOC_MMAP_THRESHOLD_=131072`` in the environment; a no-op
    (False) where the C library is not glibc. Call it once, first thing in a process.
    """
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, threshold) == 1
