//! The `mam` binary: run the library and exit with its code.

fn main() {
    // Die quietly on a closed pipe (`mam status | head`) instead of failing
    // a write and reporting it.
    // SAFETY: resetting a signal disposition before any threads start.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let code = mam::run_from(std::env::args_os());
    std::process::exit(code.as_i32());
}
