//! Graph benchmarks on the Debian `depends_on` graph, through the
//! component, against the same BFS over an in-memory adjacency list built
//! natively in the same run.
//!
//! Run: `cargo bench -p rem-host --bench graph`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::time::{Duration, Instant};

use rem_host::{Database, Direction, OpenOptions, Strategy};

fn stats(mut v: Vec<Duration>) -> (f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (ms(v[v.len() / 2]), ms(v[((v.len() as f64 - 1.0) * 0.99) as usize]))
}

/// The in-memory baseline: nodes reached within `depth` hops (BFS, each once).
fn bfs(adj: &HashMap<usize, Vec<usize>>, start: usize, depth: u32) -> usize {
    reachable(adj, start, depth).len()
}

/// An edge as the in-memory baseline with paths holds it (the fields REM returns).
struct MemEdge {
    dst: usize,
    _rel: &'static str,
    _properties: serde_json::Value,
}

/// The same result shape as REM's traversal, in memory: every node reached within `depth`
/// hops (BFS, each once) with its depth and the path of edges that first reached it.
fn bfs_paths(adj: &HashMap<usize, Vec<MemEdge>>, start: usize, depth: u32) -> Vec<(usize, u32, Vec<&MemEdge>)> {
    let mut seen = HashSet::from([start]);
    let mut out: Vec<(usize, u32, Vec<&MemEdge>)> = vec![(start, 0, Vec::new())];
    let mut frontier = vec![0usize];
    for d in 1..=depth {
        let mut next = Vec::new();
        for i in frontier {
            for e in adj.get(&out[i].0).map(Vec::as_slice).unwrap_or(&[]) {
                if seen.insert(e.dst) {
                    let mut path = out[i].2.clone();
                    path.push(e);
                    out.push((e.dst, d, path));
                    next.push(out.len() - 1);
                }
            }
        }
        frontier = next;
    }
    out
}

fn hops(adj: &HashMap<usize, Vec<usize>>, a: usize, b: usize, max: u32) -> Option<u32> {
    let mut dist = HashMap::from([(a, 0u32)]);
    let mut q = VecDeque::from([a]);
    while let Some(u) = q.pop_front() {
        if u == b {
            return Some(dist[&u]);
        }
        if dist[&u] >= max {
            continue;
        }
        for &v in adj.get(&u).map(Vec::as_slice).unwrap_or(&[]) {
            if !dist.contains_key(&v) {
                dist.insert(v, dist[&u] + 1);
                q.push_back(v);
            }
        }
    }
    None
}

fn main() {
    let lists = std::env::var("APT_LISTS").unwrap_or_else(|_| "/var/lib/apt/lists".into());
    let packages = debian_catalog::load(Path::new(&lists)).expect("load the Debian catalog (run apt-get update first)");
    let (edges, _) = debian_catalog::depends_edges(&packages);
    let rows: Vec<String> = packages.iter().map(|p| serde_json::to_string(p).unwrap()).collect();
    let edge_rows: Vec<String> = edges.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    let tmp = tempfile::tempdir().unwrap();
    let db = Database::open(OpenOptions::at(tmp.path().join("rem"))).unwrap();
    db.register_schema(
        "packages",
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/debian-catalog/package.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let ids = db.insert_batch_with_progress("packages", &rows, 1000, &mut |_| {}).unwrap();
    let t = Instant::now();
    db.add_edges_with_progress(&edge_rows, 5000, &mut |_| {}).unwrap();
    let load = t.elapsed();

    let index: HashMap<&str, usize> = packages.iter().enumerate().map(|(i, p)| (p.name.as_str(), i)).collect();
    let t = Instant::now();
    let mut out: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut inc: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut seen_pairs = HashSet::new();
    for e in &edges {
        let (a, b) = (index[e.src.as_str()], index[e.dst.as_str()]);
        if seen_pairs.insert((a, b)) {
            out.entry(a).or_default().push(b);
            inc.entry(b).or_default().push(a);
        }
    }
    let adj_build = t.elapsed();
    let mut with_edges: HashMap<usize, Vec<MemEdge>> = HashMap::new();
    for e in &edges {
        let (a, b) = (index[e.src.as_str()], index[e.dst.as_str()]);
        let list = with_edges.entry(a).or_default();
        if !list.iter().any(|x| x.dst == b) {
            list.push(MemEdge { dst: b, _rel: "depends_on", _properties: e.properties.clone() });
        }
    }
    println!(
        "graph: {} nodes, {} edges ({} distinct pairs); REM edge import {:.2} s, adjacency list build {:.3} s\n",
        packages.len(),
        edges.len(),
        seen_pairs.len(),
        load.as_secs_f64(),
        adj_build.as_secs_f64()
    );

    let mut rng = fastrand::Rng::with_seed(42);
    let starts: Vec<usize> = (0..1000).map(|_| rng.usize(..packages.len())).collect();
    // First touch: REM reads each expanded node's adjacency from storage (then keeps it, see graph_walk).
    let mut cold = Vec::new();
    for &s in &starts {
        let t = Instant::now();
        db.traverse(&ids[s], Direction::Outgoing, 3, &[], Strategy::Bfs, None).unwrap();
        cold.push(t.elapsed());
    }
    let (cm, cp) = stats(cold);
    println!(
        "3-hop outgoing from the 1,000 packages, first touch (adjacency read from storage): {cm:.3} ms median ({cp:.3} p99)\n"
    );
    println!(
        "| traversal | REM median (p99) | in-memory median (p99) | ratio of medians | in-memory with paths, median | ratio | mean nodes reached |"
    );
    println!("|---|---|---|---|---|---|---|");
    let row = |what: String, rem: Vec<Duration>, mem: Vec<Duration>, paths: Vec<Duration>, nodes: f64| {
        let ((rm, rp), (mm, mp)) = (stats(rem), stats(mem));
        let pm = if paths.is_empty() { f64::NAN } else { stats(paths).0 };
        println!(
            "| {what} | {rm:.3} ms ({rp:.3}) | {mm:.4} ms ({mp:.4}) | {:.1}x | {pm:.4} ms | {:.1}x | {nodes:.1} |",
            rm / mm,
            rm / pm
        );
    };
    for depth in 1..=3u32 {
        let (mut rem, mut mem, mut paths, mut nodes) = (Vec::new(), Vec::new(), Vec::new(), 0usize);
        for &s in &starts {
            let t = Instant::now();
            let got = db.traverse(&ids[s], Direction::Outgoing, depth, &[], Strategy::Bfs, None).unwrap();
            rem.push(t.elapsed());
            let n = serde_json::from_str::<serde_json::Value>(&got).unwrap().as_array().unwrap().len();
            let t = Instant::now();
            let m = bfs(&out, s, depth);
            mem.push(t.elapsed());
            let t = Instant::now();
            let p = bfs_paths(&with_edges, s, depth);
            paths.push(t.elapsed());
            assert_eq!(n, m, "REM and the adjacency list disagree from {}", packages[s].name);
            assert_eq!(p.len(), m);
            nodes += n;
        }
        row(
            format!("{depth}-hop outgoing, 1,000 random packages"),
            rem,
            mem,
            paths,
            nodes as f64 / starts.len() as f64,
        );
    }
    let popular = ["libc6", "libssl3", "zlib1g", "libgcc-s1", "python3", "perl", "libglib2.0-0", "libstdc++6"];
    let (mut rem, mut mem, mut nodes) = (Vec::new(), Vec::new(), 0usize);
    for name in popular {
        let Some(&s) = index.get(name) else { continue };
        for _ in 0..5 {
            let t = Instant::now();
            let got = db.traverse(&ids[s], Direction::Incoming, 2, &[], Strategy::Bfs, Some(1_000_000)).unwrap();
            rem.push(t.elapsed());
            let n = serde_json::from_str::<serde_json::Value>(&got).unwrap().as_array().unwrap().len();
            let t = Instant::now();
            let m = bfs(&inc, s, 2);
            mem.push(t.elapsed());
            assert_eq!(n, m, "reverse 2-hop from {name}");
            nodes += n;
        }
    }
    row(
        format!("reverse 2-hop from {} popular libraries", popular.len()),
        rem,
        mem,
        Vec::new(),
        nodes as f64 / rem_len(&popular),
    );
    let (mut rem, mut mem, mut found) = (Vec::new(), Vec::new(), 0);
    for i in 0..200 {
        // Half the pairs: a target reachable within 4 hops; the other half: any package.
        let a = rng.usize(..packages.len());
        let b = if i % 2 == 0 {
            let mut reach: Vec<usize> = reachable(&out, a, 4).into_iter().filter(|&x| x != a).collect();
            reach.sort_unstable();
            if reach.is_empty() { rng.usize(..packages.len()) } else { reach[rng.usize(..reach.len())] }
        } else {
            rng.usize(..packages.len())
        };
        let t = Instant::now();
        let got = db.shortest_path(&ids[a], &ids[b], Direction::Outgoing, 10, &[], false);
        rem.push(t.elapsed());
        let t = Instant::now();
        let m = hops(&out, a, b, 10);
        mem.push(t.elapsed());
        let r =
            got.ok().map(|p| serde_json::from_str::<serde_json::Value>(&p).unwrap()["hops"].as_u64().unwrap() as u32);
        assert_eq!(r, m, "shortest path {} -> {}", packages[a].name, packages[b].name);
        found += usize::from(m.is_some());
    }
    row(format!("shortest path, 200 pairs ({found} connected within 10 hops)"), rem, mem, Vec::new(), 0.0);
}

fn reachable(adj: &HashMap<usize, Vec<usize>>, start: usize, depth: u32) -> HashSet<usize> {
    let mut seen = HashSet::from([start]);
    let mut frontier = vec![start];
    for _ in 0..depth {
        let mut next = Vec::new();
        for u in frontier {
            for &v in adj.get(&u).map(Vec::as_slice).unwrap_or(&[]) {
                if seen.insert(v) {
                    next.push(v);
                }
            }
        }
        frontier = next;
    }
    seen
}

fn rem_len(popular: &[&str]) -> f64 {
    (popular.len() * 5) as f64
}
