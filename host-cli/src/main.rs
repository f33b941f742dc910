//! `rem`: the REM command-line interface.

mod cli;
mod commands;
mod errors;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let json_errors = cli.global.error_format == cli::ErrorFormat::Json;
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`| head`): what it wanted was written; end quietly, as `cat` would.
        Err(e) if output::is_closed_pipe(&e) => ExitCode::SUCCESS,
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
            ExitCode::FAILURE
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
            ExitCode::FAILURE
        }
    }
}
