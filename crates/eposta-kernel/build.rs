//! `sqlx::migrate!` embeds the files of `migrations/` at compile time, but cargo does not know
//! that the kernel depends on them: without this, a new migration is not compiled in until
//! something else in the kernel changes (the build script sqlx documents for this).
fn main() {
    println!("cargo:rerun-if-changed=../../migrations");
}
