//! The WebAssembly face of the rules, a C ABI with no bindings generator: the page asks for
//! a buffer with `alloc(len)`, writes the quote's UTF-8 bytes into the module's memory, and
//! `check(ptr, len)` answers 0 (accepted) or the [`QuoteError`] number, freeing the buffer.

use crate::{QuoteError, check as check_quote};

/// A buffer of exactly `len` bytes for the next `check` call, which takes it back.
#[unsafe(no_mangle)]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    Box::into_raw(vec![0u8; len].into_boxed_slice()).cast()
}

/// Checks the UTF-8 quote in the buffer `alloc(len)` returned, then frees it.
///
/// # Safety
/// `ptr` and `len` must be exactly what one `alloc` call returned and was given, used once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn check(ptr: *mut u8, len: usize) -> u32 {
    // SAFETY: the caller passes back the boxed slice `alloc` leaked, once.
    let bytes = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, len)) };
    // A browser's TextEncoder always writes valid UTF-8; anything else is not a quote.
    match std::str::from_utf8(&bytes) {
        Ok(text) => check_quote(text).err().map_or(0, |error| error as u32),
        Err(_) => QuoteError::InvalidCharacters as u32,
    }
}
