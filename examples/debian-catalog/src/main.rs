//! `debian-catalog [LISTS_DIR]`: print the Debian catalog as JSONL rows for REM's `packages` table.

use std::io::Write;

fn main() -> anyhow::Result<()> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "/var/lib/apt/lists".into());
    let started = std::time::Instant::now();
    let packages = debian_catalog::load(std::path::Path::new(&dir))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    for p in &packages {
        serde_json::to_writer(&mut out, p)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    eprintln!("read {} packages from {dir} in {:.2}s", packages.len(), started.elapsed().as_secs_f64());
    Ok(())
}
