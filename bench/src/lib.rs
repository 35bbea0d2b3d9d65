//! Shared pieces of the benchmark programs.

/// Reads `--name value` from the command line, or `default`.
#[must_use]
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2).find(|pair| pair[0] == format!("--{name}")).and_then(|pair| pair[1].parse().ok()).unwrap_or(default)
}

/// The `percent`-th percentile of `sorted` timings, in milliseconds.
#[must_use]
pub fn percentile(sorted: &[std::time::Duration], percent: usize) -> f64 {
    sorted[(sorted.len() - 1) * percent / 100].as_secs_f64() * 1000.0
}
