//! Any bytes as an uploaded photo: reading QR codes from them never panics, and never takes
//! more than the size limits allow.
#![no_main]

use eposta_formats::qr_decode::decode_image;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = decode_image(data);
});
