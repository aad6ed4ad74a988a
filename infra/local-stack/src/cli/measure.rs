//! `measure-cold-start`: spawn-to-first-poll times of a function binary, and optionally a
//! cold and a warm invocation with the peak memory.

use std::time::{Duration, Instant};

use local_stack::runtime_api::{FunctionOptions, FunctionProcess, InvokeError, Output};
use serde_json::{Value, json};

use local_stack::template::Template;

use super::CliError;
use super::args::MeasureArgs;
use super::serve::create_resources;

pub async fn measure(mut args: MeasureArgs) -> Result<(), CliError> {
    let event = read_event(&args)?;
    if let Some((function, stack)) = &args.function {
        let template = Template::load(&stack.template)?;
        let spec = template
            .function(function)
            .ok_or_else(|| CliError::UnknownFunction(function.clone()))?;
        let provisioned = create_resources(&template, stack).await?;
        let mut env = provisioned.env_for(&spec)?;
        env.append(&mut args.env);
        args.env = env;
    }
    let mut times = Vec::with_capacity(args.runs);
    let mut idle_rss = None;
    for run in 1..=args.runs {
        let process = spawn(&args).await?;
        let cold_start = process
            .wait_first_poll(args.timeout)
            .await
            .map_err(|source| CliError::ColdStart { run, source })?;
        times.push(cold_start);
        idle_rss = process.peak_rss_kb().ok();
        process.kill().await;
    }
    let mut report = summary(&mut times);
    report["peak_rss_kb"] = json!(idle_rss);
    if let Some(event) = event {
        invoke_twice(&args, event, &mut report).await?;
    }
    println!("{report}");
    Ok(())
}

fn read_event(args: &MeasureArgs) -> Result<Option<Value>, CliError> {
    let Some(path) = &args.event else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(path).map_err(|source| CliError::Event {
        path: path.clone(),
        source,
    })?;
    let event = serde_json::from_str(&text).map_err(|source| CliError::EventJson {
        path: path.clone(),
        source,
    })?;
    Ok(Some(event))
}

async fn spawn(args: &MeasureArgs) -> Result<FunctionProcess, CliError> {
    let name = args
        .bin
        .file_name()
        .map_or("function".into(), |n| n.to_string_lossy().into_owned());
    let mut options = FunctionOptions::new(&name).output(Output::Stderr);
    options.memory_size_mb = args.memory_mb;
    options.timeout = args.timeout;
    options.endpoint_url = args.endpoint.clone();
    FunctionProcess::spawn(&args.bin, args.env.clone(), options)
        .await
        .map_err(|source| CliError::Spawn {
            function: name,
            source,
        })
}

/// A fresh process answers `event` twice; the peak RSS is read after the warm answer.
async fn invoke_twice(
    args: &MeasureArgs,
    event: Value,
    report: &mut Value,
) -> Result<(), CliError> {
    let process = spawn(args).await?;
    let (cold, cold_ms) = timed(process.invoke(event.clone())).await;
    let (warm, warm_ms) = timed(process.invoke(event)).await;
    report["cold_invoke_ms"] = json!(cold_ms);
    report["warm_invoke_ms"] = json!(warm_ms);
    report["peak_rss_kb"] = json!(process.peak_rss_kb().ok());
    report["first_response_status"] = match &cold {
        Ok(answer) => answer.get("statusCode").cloned().unwrap_or(Value::Null),
        Err(_) => Value::Null,
    };
    if let Some(error) = cold.err().or(warm.err()) {
        report["invoke_error"] = json!(error.to_string());
    }
    process.kill().await;
    Ok(())
}

async fn timed(
    invocation: impl std::future::Future<Output = Result<Value, InvokeError>>,
) -> (Result<Value, InvokeError>, f64) {
    let started = Instant::now();
    let result = invocation.await;
    (result, millis(started.elapsed()))
}

/// Median (mean of the middle two for even counts), nearest-rank p90, min and max.
fn summary(times: &mut [Duration]) -> Value {
    times.sort();
    let ms: Vec<f64> = times.iter().map(|t| millis(*t)).collect();
    let n = ms.len();
    let median = if n.is_multiple_of(2) {
        (ms[n / 2 - 1] + ms[n / 2]) / 2.0
    } else {
        ms[n / 2]
    };
    let p90 = ms[(n * 9).div_ceil(10).saturating_sub(1)];
    json!({
        "runs": n,
        "median_ms": round(median),
        "p90_ms": round(p90),
        "min_ms": round(ms[0]),
        "max_ms": round(ms[n - 1]),
    })
}

fn millis(duration: Duration) -> f64 {
    round(duration.as_secs_f64() * 1000.0)
}

fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_statistics() {
        let mut times: Vec<Duration> = [5, 1, 3, 2, 4, 6, 7, 8, 9, 10]
            .iter()
            .map(|ms| Duration::from_millis(*ms))
            .collect();
        let s = summary(&mut times);
        assert_eq!(s["median_ms"], 5.5);
        assert_eq!(s["p90_ms"], 9.0);
        assert_eq!(s["min_ms"], 1.0);
        assert_eq!(s["runs"], 10);
    }
}
