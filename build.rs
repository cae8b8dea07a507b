//! The templates are embedded with `include_dir!`, which cargo cannot see
//! into: rebuild whenever anything under `templates/` changes, new files
//! included.

fn main() {
    println!("cargo:rerun-if-changed=templates");
}
