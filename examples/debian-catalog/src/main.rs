//! `debian-catalog [LISTS_DIR] [--edges FILE]`: print the Debian catalog as JSONL rows for
//! REM's `packages` table; with `--edges`, also write its `depends_on` edges as JSONL.

use std::io::Write;

fn main() -> anyhow::Result<()> {
    let mut dir = "/var/lib/apt/lists".to_string();
    let mut edges_file = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--edges" => edges_file = Some(args.next().ok_or_else(|| anyhow::anyhow!("--edges needs a file"))?),
            "-h" | "--help" => {
                println!("usage: debian-catalog [LISTS_DIR (default /var/lib/apt/lists)] [--edges FILE]");
                println!("Prints one JSON row per package; --edges also writes depends_on edges as JSONL.");
                return Ok(());
            }
            other => dir = other.to_string(),
        }
    }
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
    if let Some(path) = edges_file {
        let (edges, skipped) = debian_catalog::depends_edges(&packages);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for e in &edges {
            serde_json::to_writer(&mut f, e)?;
            f.write_all(b"\n")?;
        }
        f.flush()?;
        eprintln!(
            "wrote {} depends_on edges to {path} ({skipped} dependencies on virtual packages skipped)",
            edges.len()
        );
    }
    Ok(())
}
