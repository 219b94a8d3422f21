//! `SyphtBytes`: binary bodies (page images, downloads) handed to C.

use super::boundary::guard;

/// A binary response body, such as a page image or a downloaded document.
/// Read it with `sypht_bytes_data` and `sypht_bytes_len`; the bytes may
/// contain NUL and are not NUL-terminated. Created by the library, owned
/// by the caller, freed only with `sypht_bytes_free`. One thread at a time.
pub struct SyphtBytes {
    pub(crate) data: Vec<u8>,
}

impl SyphtBytes {
    pub(crate) fn into_raw(data: Vec<u8>) -> *mut SyphtBytes {
        Box::into_raw(Box::new(SyphtBytes { data }))
    }
}

/// Returns a pointer to the first byte, valid until `sypht_bytes_free`.
/// Returns NULL when `bytes` is NULL or contains no bytes.
#[no_mangle]
pub extern "C" fn sypht_bytes_data(bytes: *const SyphtBytes) -> *const u8 {
    // SAFETY: NULL or a live pointer returned by this library.
    match unsafe { bytes.as_ref() } {
        Some(b) if !b.data.is_empty() => b.data.as_ptr(),
        _ => std::ptr::null(),
    }
}

/// Returns the number of bytes, or 0 when `bytes` is NULL.
#[no_mangle]
pub extern "C" fn sypht_bytes_len(bytes: *const SyphtBytes) -> usize {
    // SAFETY: NULL or a live pointer returned by this library.
    unsafe { bytes.as_ref() }.map_or(0, |b| b.data.len())
}

/// Frees a `SyphtBytes`. NULL is ignored.
#[no_mangle]
pub extern "C" fn sypht_bytes_free(bytes: *mut SyphtBytes) {
    guard("sypht_bytes_free", std::ptr::null_mut(), (), || {
        if !bytes.is_null() {
            // SAFETY: a pointer from `SyphtBytes::into_raw`, freed once.
            drop(unsafe { Box::from_raw(bytes) });
        }
        Ok(())
    })
}
