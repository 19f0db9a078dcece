//! Writes each target's seeds (captured packets, see `src/protocol/fuzz_targets.rs`) to
//! `<dir>/<target>/seed-<n>`, the corpus directories `cargo fuzz run` reads and grows.

use std::path::PathBuf;

use cymysql_wasi::protocol::fuzz_targets::TARGETS;

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "corpus".into()));
    for target in TARGETS {
        let target_dir = dir.join(target.name);
        std::fs::create_dir_all(&target_dir)?;
        let seeds = (target.seeds)();
        for (i, seed) in seeds.iter().enumerate() {
            std::fs::write(target_dir.join(format!("seed-{i}")), seed)?;
        }
        println!("{}: {} seeds", target.name, seeds.len());
    }
    Ok(())
}
