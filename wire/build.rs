//! The translations are read at compile time by rust-i18n's macro; tell cargo to rebuild the
//! crate when they change, or a build could carry stale strings.
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
