//! Memory placement for the lookup data: huge pages for the arrays a
//! lookup reads at random, and handing the memory freed after a (re)load
//! back to the system. Linux-only calls; elsewhere these do nothing.
//! Besides src/udp.rs, the crate's only `unsafe` code (two libc calls and
//! a prefetch hint).

/// A copy of `v` in memory the kernel is asked to back with 2 MiB pages
/// (Linux transparent huge pages in `madvise` mode): a lookup touches
/// random places of a many-megabyte array, and with 4 KiB pages each one
/// is also a TLB miss, expensive under virtualisation.
pub(crate) fn hugepage_copy<T: Copy>(v: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(v.len());
    #[cfg(target_os = "linux")]
    advise_huge(out.as_mut_ptr().cast(), out.capacity() * size_of::<T>());
    out.extend_from_slice(v);
    out
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn advise_huge(ptr: *mut u8, len: usize) {
    const HUGE: usize = 2 << 20;
    let start = (ptr as usize).next_multiple_of(HUGE);
    let end = (ptr as usize + len) / HUGE * HUGE;
    if end > start {
        // SAFETY: [start, end) lies inside the allocation of `len` bytes at
        // `ptr`, which this function's caller owns; MADV_HUGEPAGE changes
        // how the kernel backs those pages, never their contents or
        // validity. A failure (no THP support) is harmless and ignored.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

/// Returns the heap memory freed after a load (the parsed entries, the
/// old zones after a reload) to the system, so that the resident size
/// shows the zones and not the garbage of building them (glibc keeps
/// freed memory otherwise).
pub(crate) fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused heap pages to the kernel; it
    // is thread-safe and touches no memory in use.
    #[allow(unsafe_code)]
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Asks the CPU to start loading the cache line of `x` (a hint: no
/// effect on what the program computes). See `answer::warm`.
#[inline]
pub(crate) fn prefetch<T>(x: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: PREFETCHT0 reads nothing architecturally and cannot fault;
    // the pointer comes from a live reference anyway. SSE, which it
    // needs, is part of every x86_64 CPU.
    #[allow(unsafe_code)]
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T0>(std::ptr::from_ref(x).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = x;
}
