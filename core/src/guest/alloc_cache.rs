//! A small-block cache in front of the guest's allocator.
//!
//! Parsing and dropping JSON values makes most of the engine's allocations: many
//! blocks of a few dozen bytes (keys, short strings, map entries). Talc finds a
//! fit by size bins and splits and merges neighbours on every call, about a tenth
//! of a batch insert's time in profiles. This cache keeps freed blocks of up to
//! [`MAX_SMALL`] bytes on one free list per 16-byte size class and hands them out
//! again LIFO, so a steady workload allocates small blocks in a few instructions.
//!
//! Each class keeps at most [`CLASS_BYTES`] of free blocks; beyond that, blocks go
//! back to the inner allocator, so the cache holds at most 16 × 256 KiB.
//!
//! Only for a single-threaded guest (`wasm32` without the `atomics` feature; the
//! component refuses to build otherwise): the lists are plain cells. Crate-private.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::ptr;

/// Largest block (bytes) served from the cache.
pub const MAX_SMALL: usize = 256;
/// Size classes are multiples of this (also the blocks' alignment).
const STEP: usize = 16;
const CLASSES: usize = MAX_SMALL / STEP;
/// Most bytes of free blocks one class keeps.
pub const CLASS_BYTES: usize = 256 * 1024;

/// `inner` with a free list per small size class.
pub(crate) struct SmallCache<A> {
    inner: A,
    heads: [Cell<*mut u8>; CLASSES],
    counts: [Cell<u32>; CLASSES],
}

// SAFETY: used as the allocator only by the single-threaded component (`component.rs`
// refuses to build with `atomics`), where nothing runs concurrently with it; the native
// unit tests use their own instance from one thread.
unsafe impl<A: Sync> Sync for SmallCache<A> {}

impl<A> SmallCache<A> {
    /// Wrap `inner`.
    pub(crate) const fn new(inner: A) -> Self {
        SmallCache {
            inner,
            heads: [const { Cell::new(ptr::null_mut()) }; CLASSES],
            counts: [const { Cell::new(0) }; CLASSES],
        }
    }
}

/// The size class of `layout`, if it is small: blocks of class `c` are `(c + 1) * STEP` bytes.
fn class(layout: Layout) -> Option<usize> {
    (layout.size() <= MAX_SMALL && layout.align() <= STEP).then(|| layout.size().saturating_sub(1) / STEP)
}

fn class_layout(c: usize) -> Layout {
    // SAFETY: non-zero size, power-of-two alignment, no overflow.
    unsafe { Layout::from_size_align_unchecked((c + 1) * STEP, STEP) }
}

unsafe impl<A: GlobalAlloc> GlobalAlloc for SmallCache<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(c) = class(layout) else {
            // SAFETY: the caller's contract, passed on.
            return unsafe { self.inner.alloc(layout) };
        };
        let head = self.heads[c].get();
        if head.is_null() {
            // SAFETY: a valid non-zero layout.
            return unsafe { self.inner.alloc(class_layout(c)) };
        }
        // SAFETY: `head` is a free block of this class, whose first bytes hold the next pointer.
        self.heads[c].set(unsafe { head.cast::<*mut u8>().read() });
        self.counts[c].set(self.counts[c].get() - 1);
        head
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let Some(c) = class(layout) else {
            // SAFETY: the caller's contract, passed on.
            return unsafe { self.inner.dealloc(ptr, layout) };
        };
        if (self.counts[c].get() as usize + 1) * class_layout(c).size() > CLASS_BYTES {
            // SAFETY: small blocks are all allocated with their class layout.
            return unsafe { self.inner.dealloc(ptr, class_layout(c)) };
        }
        // SAFETY: the block is at least STEP bytes and STEP-aligned, room for a pointer.
        unsafe { ptr.cast::<*mut u8>().write(self.heads[c].get()) };
        self.heads[c].set(ptr);
        self.counts[c].set(self.counts[c].get() + 1);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees `new_size` with `layout.align()` is a valid layout.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class(layout), class(new_layout)) {
            // Both large: the inner allocator may grow or shrink in place.
            // SAFETY: the caller's contract, passed on.
            (None, None) => unsafe { self.inner.realloc(ptr, layout, new_size) },
            (Some(a), Some(b)) if a == b => ptr,
            _ => {
                // SAFETY: a valid layout; both blocks live, copying the smaller size.
                unsafe {
                    let new = self.alloc(new_layout);
                    if !new.is_null() {
                        ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                    new
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;

    #[test]
    fn blocks_are_reused_by_class_and_keep_their_contents_through_realloc() {
        let cache = SmallCache::new(System);
        unsafe {
            let l = Layout::from_size_align(24, 8).unwrap();
            let a = cache.alloc(l);
            a.write_bytes(7, 24);
            cache.dealloc(a, l);
            // Same class (17..=32 bytes): the freed block comes back.
            let b = cache.alloc(Layout::from_size_align(32, 16).unwrap());
            assert_eq!(a, b);
            b.write_bytes(1, 32);
            // Growing past the class moves the block and keeps the bytes.
            let c = cache.realloc(b, Layout::from_size_align(32, 16).unwrap(), 1000);
            assert!((0..32).all(|i| *c.add(i) == 1));
            let d = cache.realloc(c, Layout::from_size_align(1000, 16).unwrap(), 20);
            assert!((0..20).all(|i| *d.add(i) == 1));
            cache.dealloc(d, Layout::from_size_align(20, 16).unwrap());
            // Over-aligned small layouts bypass the cache.
            let big_align = Layout::from_size_align(16, 64).unwrap();
            let e = cache.alloc(big_align);
            assert_eq!(e as usize % 64, 0);
            cache.dealloc(e, big_align);
        }
    }

    #[test]
    fn a_class_keeps_at_most_its_byte_budget() {
        let cache = SmallCache::new(System);
        let l = Layout::from_size_align(256, 16).unwrap();
        let blocks: Vec<*mut u8> = (0..2000).map(|_| unsafe { cache.alloc(l) }).collect();
        for b in blocks {
            unsafe { cache.dealloc(b, l) };
        }
        assert_eq!(cache.counts[MAX_SMALL / STEP - 1].get() as usize, CLASS_BYTES / 256);
    }
}
