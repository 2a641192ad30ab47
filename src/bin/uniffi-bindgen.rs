//! The uniffi binding generator, pinned to the crate's uniffi version
//! (`cargo run --features bindgen --bin uniffi-bindgen -- generate …`).
fn main() {
    uniffi::uniffi_bindgen_main()
}
