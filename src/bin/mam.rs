//! The `mam` binary: run the library and exit with its code.

fn main() {
    mam::os::restore_sigpipe();
    let code = mam::run_from(std::env::args_os());
    std::process::exit(code.as_i32());
}
