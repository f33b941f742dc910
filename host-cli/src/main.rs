//! `rem`: the REM command-line interface (the program is the library's [`rem_cli::run`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(rem_cli::run(std::env::args_os()))
}
