//! A real function binary running against its own [`RuntimeApi`], like one Lambda execution
//! environment: one invocation at a time, restarted after a crash or a timeout.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::Value;
use thiserror::Error;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, watch};

use super::{InvokeError, RuntimeApi};
use crate::REGION;
use crate::template::FunctionSpec;

/// How long a killed process may take to be reaped.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// Variables passed through from our own environment; everything else is cleared, as in
/// Lambda, so the developer's AWS profile cannot leak into a function.
const PASS_THROUGH: &[&str] = &["PATH", "RUST_BACKTRACE", "RUST_LIB_BACKTRACE"];

/// Why a function process could not start.
#[derive(Debug, Error)]
pub enum SpawnError {
    #[error("function binary {0} does not exist")]
    MissingBinary(PathBuf),
    #[error("cannot start the Runtime API server: {0}")]
    Server(#[source] std::io::Error),
    #[error("cannot start {binary}: {source}")]
    Process {
        binary: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Settings of the emulated execution environment.
#[derive(Debug, Clone)]
pub struct FunctionOptions {
    /// `AWS_LAMBDA_FUNCTION_NAME` and the prefix of forwarded output lines.
    pub name: String,
    pub memory_size_mb: u32,
    pub timeout: Duration,
    pub region: String,
    /// `AWS_ENDPOINT_URL`, pointing the function's SDK clients at the emulation.
    pub endpoint_url: Option<String>,
    /// Where the process's output goes.
    pub output: Output,
}

/// Where a function process's stdout and stderr go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// To our stdout and stderr, each line prefixed with `[name] `.
    Forward,
    /// Both to our stderr (prefixed), keeping our stdout for machine-readable output.
    Stderr,
    Discard,
}

impl FunctionOptions {
    /// Lambda's defaults: 128 MB, 3 s, our region; no endpoint; output forwarded.
    pub fn new(name: impl Into<String>) -> Self {
        FunctionOptions {
            name: name.into(),
            memory_size_mb: 128,
            timeout: Duration::from_secs(3),
            region: REGION.to_owned(),
            endpoint_url: None,
            output: Output::Forward,
        }
    }

    /// The template's memory size and timeout for `spec`, named `name`.
    pub fn from_spec(spec: &FunctionSpec, name: impl Into<String>) -> Self {
        FunctionOptions {
            memory_size_mb: spec.memory_size_mb,
            timeout: spec.timeout(),
            ..FunctionOptions::new(name)
        }
    }

    pub fn endpoint_url(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint_url = Some(endpoint.into());
        self
    }

    pub fn output(mut self, output: Output) -> Self {
        self.output = output;
        self
    }
}

/// One running child and the means to stop it.
struct Running {
    pid: Option<u32>,
    spawned_at: Instant,
    /// `Some(description)` once the process has ended.
    exit: watch::Receiver<Option<String>>,
    kill: Option<oneshot::Sender<()>>,
}

impl Running {
    fn has_exited(&self) -> bool {
        self.exit.borrow().is_some()
    }

    /// Resolves with how the process ended.
    fn exited(&self) -> impl std::future::Future<Output = String> + use<> {
        let mut exit = self.exit.clone();
        async move {
            match exit.wait_for(Option::is_some).await {
                Ok(status) => status.clone().unwrap_or_default(),
                Err(_) => "supervisor gone".to_owned(),
            }
        }
    }

    async fn kill(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        let _ = tokio::time::timeout(KILL_GRACE, self.exited()).await;
    }
}

/// A function binary behind its own Runtime API. Dropping it kills the process.
pub struct FunctionProcess {
    api: RuntimeApi,
    binary: PathBuf,
    env: BTreeMap<String, String>,
    options: FunctionOptions,
    /// Locked for a whole invocation: one execution environment serves one event at a time.
    child: tokio::sync::Mutex<Running>,
    /// Copies of the current child's pid and start, readable without waiting for the lock.
    info: Mutex<(Option<u32>, Instant)>,
}

impl FunctionProcess {
    /// Starts `binary` with `env` (the resolved template environment; it may override the
    /// Lambda defaults except `AWS_LAMBDA_RUNTIME_API`) behind a new Runtime API server.
    pub async fn spawn(
        binary: impl AsRef<Path>,
        env: BTreeMap<String, String>,
        options: FunctionOptions,
    ) -> Result<FunctionProcess, SpawnError> {
        let binary = binary.as_ref().to_owned();
        if !binary.is_file() {
            return Err(SpawnError::MissingBinary(binary));
        }
        let api = RuntimeApi::start(&options.name, &options.region)
            .await
            .map_err(SpawnError::Server)?;
        let child = start_child(&binary, &child_env(&api, &binary, &env, &options), &options)?;
        let info = Mutex::new((child.pid, child.spawned_at));
        Ok(FunctionProcess {
            api,
            binary,
            env,
            options,
            child: tokio::sync::Mutex::new(child),
            info,
        })
    }

    pub fn name(&self) -> &str {
        &self.options.name
    }

    pub fn options(&self) -> &FunctionOptions {
        &self.options
    }

    /// The Runtime API address the process polls.
    pub fn runtime_api(&self) -> &RuntimeApi {
        &self.api
    }

    /// The current process's id.
    pub fn pid(&self) -> Option<u32> {
        self.info().0
    }

    /// When the current process was started.
    pub fn spawned_at(&self) -> Instant {
        self.info().1
    }

    /// When the current process first polled for an invocation, i.e. finished its init.
    pub fn first_poll(&self) -> Option<Instant> {
        self.api.first_poll()
    }

    /// Waits until the process first polls and returns the time since it was spawned: the
    /// cold-start time before the first event can be handled.
    pub async fn wait_first_poll(&self, limit: Duration) -> Result<Duration, InvokeError> {
        let exited = self.child.lock().await.exited();
        tokio::select! {
            polled = self.api.wait_first_poll() => Ok(polled.saturating_duration_since(self.spawned_at())),
            status = exited => Err(self.api.exit_error(status)),
            () = tokio::time::sleep(limit) => Err(InvokeError::Timeout(limit)),
        }
    }

    /// The process's peak resident set size (`VmHWM`) in KiB; Linux only.
    pub fn peak_rss_kb(&self) -> std::io::Result<u64> {
        let pid = self
            .pid()
            .ok_or_else(|| std::io::Error::other("process has no pid"))?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        parse_vm_hwm(&status).ok_or_else(|| std::io::Error::other("no VmHWM in /proc status"))
    }

    /// Sends `payload` as an event and waits for the function's answer, at most the timeout.
    /// A crashed or timed-out process is replaced, like Lambda replaces an environment.
    pub async fn invoke(&self, payload: Value) -> Result<Value, InvokeError> {
        let mut child = self.child.lock().await;
        if child.has_exited() {
            tracing::warn!(function = %self.options.name, "process had exited; restarting it");
            self.restart(&mut child)?;
        }
        let exited = child.exited();
        let result = self
            .api
            .invoke_until(&payload, self.options.timeout, exited)
            .await;
        if let Err(InvokeError::Timeout(_)) = &result {
            tracing::warn!(function = %self.options.name, "invocation timed out; stopping the process");
            child.kill().await;
        }
        result
    }

    /// Stops the process (it is restarted by the next invocation).
    pub async fn kill(&self) {
        self.child.lock().await.kill().await;
    }

    fn restart(&self, child: &mut Running) -> Result<(), InvokeError> {
        self.api.reset();
        let env = child_env(&self.api, &self.binary, &self.env, &self.options);
        *child = start_child(&self.binary, &env, &self.options)
            .map_err(|e| InvokeError::Restart(e.to_string()))?;
        *self.info.lock().unwrap_or_else(PoisonError::into_inner) = (child.pid, child.spawned_at);
        Ok(())
    }

    fn info(&self) -> (Option<u32>, Instant) {
        *self.info.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The Lambda environment (<https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime>),
/// then the caller's variables, then the Runtime API address, which must stay ours.
fn child_env(
    api: &RuntimeApi,
    binary: &Path,
    env: &BTreeMap<String, String>,
    options: &FunctionOptions,
) -> BTreeMap<String, String> {
    let name = &options.name;
    let task_root = binary.parent().unwrap_or(Path::new("."));
    let mut vars: BTreeMap<String, String> = [
        ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            options.memory_size_mb.to_string(),
        ),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "local/[$LATEST]local".to_owned(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        ("AWS_REGION", options.region.clone()),
        ("AWS_DEFAULT_REGION", options.region.clone()),
        ("AWS_ACCESS_KEY_ID", "test".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("LAMBDA_TASK_ROOT", task_root.display().to_string()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("TZ", ":UTC".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    if let Some(endpoint) = &options.endpoint_url {
        vars.insert("AWS_ENDPOINT_URL".to_owned(), endpoint.clone());
    }
    for key in PASS_THROUGH {
        if let Ok(value) = std::env::var(key) {
            vars.insert((*key).to_owned(), value);
        }
    }
    vars.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
    vars.insert(
        "AWS_LAMBDA_RUNTIME_API".to_owned(),
        api.address().to_string(),
    );
    vars
}

fn start_child(
    binary: &Path,
    env: &BTreeMap<String, String>,
    options: &FunctionOptions,
) -> Result<Running, SpawnError> {
    let output = || match options.output {
        Output::Forward | Output::Stderr => Stdio::piped(),
        Output::Discard => Stdio::null(),
    };
    let mut command = Command::new(binary);
    command
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(output())
        .stderr(output())
        // Our own process group: Ctrl-C reaches us, and we stop the children in order.
        .process_group(0)
        .kill_on_drop(true);
    let spawned_at = Instant::now();
    let mut child = command.spawn().map_err(|source| SpawnError::Process {
        binary: binary.to_owned(),
        source,
    })?;
    let pid = child.id();
    tracing::debug!(function = %options.name, ?pid, "started function process");
    forward_output(&mut child, &options.name, options.output);
    let (exit, kill) = supervise(child, options.name.clone());
    Ok(Running {
        pid,
        spawned_at,
        exit,
        kill: Some(kill),
    })
}

/// Owns the child: reports its end, and kills it when asked or when the handle is dropped.
fn supervise(
    mut child: Child,
    name: String,
) -> (watch::Receiver<Option<String>>, oneshot::Sender<()>) {
    let (exit_tx, exit_rx) = watch::channel(None);
    let (kill_tx, kill_rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let (status, killed) = tokio::select! {
            status = child.wait() => (status, false),
            // Either an explicit kill or the handle being dropped.
            _ = kill_rx => {
                let _ = child.start_kill();
                (child.wait().await, true)
            }
        };
        let description = match status {
            Ok(status) => status.to_string(),
            Err(error) => format!("unknown status ({error})"),
        };
        if killed {
            tracing::debug!(function = %name, %description, "function process stopped");
        } else {
            tracing::warn!(function = %name, %description, "function process exited");
        }
        exit_tx.send_replace(Some(description));
    });
    (exit_rx, kill_tx)
}

fn forward_output(child: &mut Child, name: &str, output: Output) {
    if let Some(stdout) = child.stdout.take() {
        let to_stderr = output == Output::Stderr;
        tokio::spawn(forward_lines(stdout, format!("[{name}] "), to_stderr));
    }
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(forward_lines(stderr, format!("[{name}] "), true));
    }
}

/// Copies lines to our stdout or stderr; a whole line per write keeps the output of several
/// functions from interleaving mid-line.
async fn forward_lines(stream: impl AsyncRead + Unpin, prefix: String, to_stderr: bool) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let text = format!("{prefix}{line}\n");
        let written = if to_stderr {
            std::io::stderr().lock().write_all(text.as_bytes())
        } else {
            std::io::stdout().lock().write_all(text.as_bytes())
        };
        if written.is_err() {
            break;
        }
    }
}

/// `VmHWM:     1234 kB` → 1234.
fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_from_proc_status() {
        let status = "Name:\totp\nVmPeak:\t  10000 kB\nVmHWM:\t    5120 kB\nVmRSS:\t 5000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(5120));
        assert_eq!(parse_vm_hwm("Name: x"), None);
    }
}
