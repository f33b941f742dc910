//! `rem`'s command line as a library: [`run`] parses the arguments and runs the command, so
//! the `rem` binary and the `rem` console script of the Python wheel (`rem_db._cli`, which
//! calls it in process) are one program.

mod cli;
mod commands;
mod errors;
mod output;

use std::ffi::OsString;

use clap::Parser;

/// Parse `args` (the program name first, as `std::env::args_os` gives them) and run the
/// command, printing its output to stdout and any error to stderr (as JSON with
/// `--error-format json`). Returns the process exit code: 0 on success (also when stdout was
/// closed under it, as `rem ... | head` does), 2 for a command line clap refuses, 1 for any
/// other failure.
pub fn run<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors print to stderr.
            let _ = e.print();
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    let json_errors = cli.global.error_format == cli::ErrorFormat::Json;
    match commands::run(cli) {
        Ok(()) => 0,
        // The reader went away (`| head`): what it wanted was written; end quietly, as `cat` would.
        Err(e) if output::is_closed_pipe(&e) => 0,
        Err(e) if json_errors => {
            let rem =
                e.downcast_ref::<rem_host::Error>().or_else(|| e.downcast_ref::<errors::BatchRejected>().map(|b| &b.1));
            let body = match rem {
                Some(rem) => rem_host::remote::wire::error_to_wire(rem),
                None => {
                    serde_json::json!({"error": {"kind": "cli", "message": format!("{e:#}"), "display": format!("{e:#}")}})
                }
            };
            eprintln!("{body}");
            1
        }
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            let rem = e.downcast_ref::<rem_host::Error>();
            if let Some(rem_host::Error::InvalidQuery { line, column, .. }) = rem
                && *line > 0
            {
                eprintln!("  at line {line}, column {column}");
            }
            if let Some(hint) = errors::hint(&e) {
                eprintln!("hint: {hint}");
            }
            1
        }
    }
}
