//! Times the local stylizer: stylizes the 1024×1024 test selfie N times (default 5) in
//! each style and prints JSON with the median and slowest time per style and the
//! process's peak resident memory (VmHWM).
//!
//! `cargo run --release -p shared --example stylize_bench [N] [image]`
//!
//! With an image path, that picture is stylized instead (to time large phone photos).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use shared::generation::imaging::{decode_selfie, stylize};
use shared::generation::style::Style;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 5,
    };
    if runs == 0 {
        return Err("N must be at least 1".into());
    }
    let input = match std::env::args().nth(2) {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/selfie.jpg"),
    };
    let bytes = std::fs::read(input)?;

    let decode_started = Instant::now();
    let selfie = decode_selfie(&bytes)?;
    let decode_ms = millis(decode_started.elapsed());

    let mut styles = Vec::new();
    for style in Style::ALL {
        let mut times: Vec<Duration> = (0..runs)
            .map(|_| {
                let started = Instant::now();
                let avatar = stylize(&selfie, style);
                let elapsed = started.elapsed();
                std::hint::black_box(avatar);
                elapsed
            })
            .collect();
        times.sort();
        styles.push(serde_json::json!({
            "style": style.as_str(),
            "median_ms": millis(times[times.len() / 2]),
            "max_ms": millis(times[times.len() - 1]),
        }));
    }
    let report = serde_json::json!({
        "input": format!("{}x{}, {} bytes", selfie.width(), selfie.height(), bytes.len()),
        "runs_per_style": runs,
        "decode_ms": decode_ms,
        "styles": styles,
        "peak_rss_mb": peak_rss_mb(),
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

fn millis(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 10_000.0).round() / 10.0
}

/// VmHWM ("high water mark") from /proc/self/status, in MB; None off Linux.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kilobytes / 1024.0 * 10.0).round() / 10.0)
}
