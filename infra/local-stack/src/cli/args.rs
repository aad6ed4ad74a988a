//! Hand-written argument parsing: a subcommand, then `--name value` or `--name=value`.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use thiserror::Error;

pub const USAGE: &str = "\
usage:
  local-stack serve [--template template.yaml] [--endpoint http://127.0.0.1:4566]
                    [--listen 127.0.0.1:3000] [--bin-dir target/debug]
                    [--prefix anumi-local-] [--param Name=Value ...]
                    [--bin-override LogicalId=PATH ...] [--env [LogicalId:]KEY=VALUE ...]
                    [--web-dir web/dist]
      Create the template's resources in the emulation, run every function binary behind
      a local Lambda Runtime API, serve the HTTP API, poll the functions' SQS queues, run
      their schedules and announce sent emails (read them at /_local/mail). Ctrl-C stops.
      --web-dir serves the built web app at the root and the HTTP API under /api (the
      prefix stripped), as CloudFront does, with its security headers.
      --bin-override runs PATH for that function instead of its binary (e.g. the test
      probe, target/debug/probe-lambda); --env sets a variable for every function, or for
      one with LogicalId:, over the template's.
  local-stack trigger LogicalId [--event EventName] [--listen 127.0.0.1:3000]
                    [--clock-offset 31d]
      Ask the running `serve` to invoke the function now with the event its schedule
      delivers (its first Schedule/ScheduleV2 event unless --event names one); prints the
      function's response. Uses the loopback-only route
      POST /_local/functions/LogicalId/invoke-schedule[?event=EventName].
      --clock-offset (s, m, h or d) adds detail.clock_offset_seconds to the event: the
      retention job runs that far in the future (refused when APP_ENV=prod).
  local-stack provision [--template ...] [--endpoint ...] [--prefix ...] [--param Name=Value ...]
      Only create the resources and print their physical names.
  local-stack measure-cold-start --bin PATH [--env KEY=VALUE ...] [--event FILE] [--runs 10]
                    [--endpoint URL] [--memory 128] [--timeout 30]
                    [--function LogicalId [--template ...] [--prefix ...] [--param ...]]
      Spawn the binary --runs times and time spawn -> first Runtime API poll; with --event,
      invoke it twice (cold, warm) and read the peak RSS. Prints JSON. With --function,
      the template's resources are created and the binary gets that function's environment.
  local-stack help";

#[derive(Debug, Error, PartialEq, Eq)]
pub enum UsageError {
    #[error("missing subcommand")]
    NoCommand,
    #[error("unknown subcommand {0:?}")]
    UnknownCommand(String),
    #[error("unknown option {option:?} for {command}")]
    UnknownOption { command: String, option: String },
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("{0} is required")]
    Required(&'static str),
    #[error("{option}: {value:?} is not {expected}")]
    Invalid {
        option: &'static str,
        value: String,
        expected: &'static str,
    },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Serve(ServeArgs),
    Provision(ProvisionArgs),
    Trigger(TriggerArgs),
    MeasureColdStart(MeasureArgs),
    Help,
}

/// What `provision` and `serve` share.
#[derive(Debug, PartialEq, Eq)]
pub struct ProvisionArgs {
    pub template: PathBuf,
    pub endpoint: String,
    pub prefix: String,
    pub params: HashMap<String, String>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ServeArgs {
    pub stack: ProvisionArgs,
    pub listen: SocketAddr,
    pub bin_dir: PathBuf,
    /// `--bin-override LogicalId=PATH`: the binary to run for that function.
    pub bin_overrides: BTreeMap<String, PathBuf>,
    /// `--env [LogicalId:]KEY=VALUE`, in the order given.
    pub env: Vec<EnvOverride>,
    /// `--web-dir DIR`: the built web app, served with the API under `/api`.
    pub web_dir: Option<PathBuf>,
}

/// A variable set over the template's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvOverride {
    /// `None`: every function.
    pub function: Option<String>,
    pub key: String,
    pub value: String,
}

#[derive(Debug, PartialEq, Eq)]
pub struct TriggerArgs {
    pub function: String,
    pub event: Option<String>,
    /// Where `serve` listens.
    pub listen: SocketAddr,
    /// `--clock-offset`: seconds the invoked job's clock runs ahead.
    pub clock_offset_seconds: Option<i64>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct MeasureArgs {
    pub bin: PathBuf,
    pub env: BTreeMap<String, String>,
    pub event: Option<PathBuf>,
    pub runs: usize,
    pub endpoint: Option<String>,
    pub memory_mb: u32,
    pub timeout: Duration,
    /// `--function ID`: provision the template's resources and give the binary that
    /// function's resolved environment (`--env` entries override it).
    pub function: Option<(String, ProvisionArgs)>,
}

pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let (command, rest) = args.split_first().ok_or(UsageError::NoCommand)?;
    match command.as_str() {
        "serve" => serve(&Options::parse(command, rest, SERVE)?),
        "provision" => {
            provision(&Options::parse(command, rest, PROVISION)?).map(Command::Provision)
        }
        "measure-cold-start" => measure(&Options::parse(command, rest, MEASURE)?),
        "trigger" => trigger(command, rest),
        "help" | "--help" | "-h" => Ok(Command::Help),
        other => Err(UsageError::UnknownCommand(other.to_owned())),
    }
}

const PROVISION: &[&str] = &["template", "endpoint", "prefix", "param"];
const SERVE: &[&str] = &[
    "template",
    "endpoint",
    "prefix",
    "param",
    "listen",
    "bin-dir",
    "bin-override",
    "env",
    "web-dir",
];
const TRIGGER: &[&str] = &["listen", "event", "clock-offset"];
const MEASURE: &[&str] = &[
    "bin", "env", "event", "runs", "endpoint", "memory", "timeout", "function", "template",
    "prefix", "param",
];

fn provision(options: &Options) -> Result<ProvisionArgs, UsageError> {
    Ok(ProvisionArgs {
        template: options.last("template").unwrap_or("template.yaml").into(),
        endpoint: options
            .last("endpoint")
            .unwrap_or("http://127.0.0.1:4566")
            .to_owned(),
        prefix: options.last("prefix").unwrap_or("anumi-local-").to_owned(),
        params: pairs(options, "param", "--param")?.into_iter().collect(),
    })
}

fn serve(options: &Options) -> Result<Command, UsageError> {
    let listen = options.last("listen").unwrap_or("127.0.0.1:3000");
    Ok(Command::Serve(ServeArgs {
        stack: provision(options)?,
        listen: parsed("--listen", listen, "an address like 127.0.0.1:3000")?,
        bin_dir: options.last("bin-dir").unwrap_or("target/debug").into(),
        bin_overrides: pairs(options, "bin-override", "--bin-override")?
            .into_iter()
            .map(|(function, path)| (function, PathBuf::from(path)))
            .collect(),
        env: pairs(options, "env", "--env")?
            .into_iter()
            .map(|(target, value)| env_override(&target, value))
            .collect::<Result<_, _>>()?,
        web_dir: options.last("web-dir").map(PathBuf::from),
    }))
}

/// `KEY` or `LogicalId:KEY` (variable names cannot hold `:`).
fn env_override(target: &str, value: String) -> Result<EnvOverride, UsageError> {
    let (function, key) = match target.split_once(':') {
        Some((function, key)) => (Some(function.to_owned()), key),
        None => (None, target),
    };
    if key.is_empty() || function.as_deref() == Some("") {
        return Err(UsageError::Invalid {
            option: "--env",
            value: format!("{target}={value}"),
            expected: "[LogicalId:]KEY=VALUE",
        });
    }
    Ok(EnvOverride {
        function,
        key: key.to_owned(),
        value,
    })
}

/// `trigger LogicalId [--event Name] [--listen ADDRESS]`.
fn trigger(command: &str, rest: &[String]) -> Result<Command, UsageError> {
    let (function, rest) = match rest.split_first() {
        Some((function, rest)) if !function.starts_with("--") => (function, rest),
        _ => return Err(UsageError::Required("the function's logical id")),
    };
    let options = Options::parse(command, rest, TRIGGER)?;
    let listen = options.last("listen").unwrap_or("127.0.0.1:3000");
    Ok(Command::Trigger(TriggerArgs {
        function: function.clone(),
        event: options.last("event").map(str::to_owned),
        listen: parsed("--listen", listen, "an address like 127.0.0.1:3000")?,
        clock_offset_seconds: options
            .last("clock-offset")
            .map(|value| {
                offset_seconds(value).ok_or_else(|| UsageError::Invalid {
                    option: "--clock-offset",
                    value: value.to_owned(),
                    expected: "a whole number of s, m, h or d, like 31d",
                })
            })
            .transpose()?,
    }))
}

/// `90s`, `15m`, `12h`, `31d` or plain seconds.
fn offset_seconds(value: &str) -> Option<i64> {
    let (number, unit) = match value.char_indices().last()? {
        (at, unit) if unit.is_ascii_alphabetic() => (&value[..at], unit),
        _ => (value, 's'),
    };
    let number: i64 = number.parse().ok()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    number.checked_mul(scale)
}

fn measure(options: &Options) -> Result<Command, UsageError> {
    let bin = options.last("bin").ok_or(UsageError::Required("--bin"))?;
    let runs = parsed(
        "--runs",
        options.last("runs").unwrap_or("10"),
        "a number of runs",
    )?;
    if runs == 0 {
        return Err(UsageError::Invalid {
            option: "--runs",
            value: "0".to_owned(),
            expected: "at least 1",
        });
    }
    let timeout: u64 = parsed(
        "--timeout",
        options.last("timeout").unwrap_or("30"),
        "seconds",
    )?;
    Ok(Command::MeasureColdStart(MeasureArgs {
        bin: bin.into(),
        env: pairs(options, "env", "--env")?.into_iter().collect(),
        event: options.last("event").map(PathBuf::from),
        runs,
        endpoint: options.last("endpoint").map(str::to_owned),
        memory_mb: parsed(
            "--memory",
            options.last("memory").unwrap_or("128"),
            "megabytes",
        )?,
        timeout: Duration::from_secs(timeout),
        function: match options.last("function") {
            Some(id) => Some((id.to_owned(), provision(options)?)),
            None => None,
        },
    }))
}

fn parsed<T: std::str::FromStr>(
    option: &'static str,
    value: &str,
    expected: &'static str,
) -> Result<T, UsageError> {
    value.parse().map_err(|_| UsageError::Invalid {
        option,
        value: value.to_owned(),
        expected,
    })
}

/// Every `KEY=VALUE` given for a repeatable option.
fn pairs(
    options: &Options,
    name: &str,
    option: &'static str,
) -> Result<Vec<(String, String)>, UsageError> {
    options
        .all(name)
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => Err(UsageError::Invalid {
                option,
                value: pair.to_owned(),
                expected: "KEY=VALUE",
            }),
        })
        .collect()
}

/// Options in the order given; single-valued ones take their last occurrence.
struct Options(Vec<(String, String)>);

impl Options {
    fn parse(command: &str, args: &[String], allowed: &[&str]) -> Result<Options, UsageError> {
        let mut values = Vec::new();
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let unknown = || UsageError::UnknownOption {
                command: command.to_owned(),
                option: arg.clone(),
            };
            let flag = arg.strip_prefix("--").ok_or_else(unknown)?;
            let (name, inline) = match flag.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (flag, None),
            };
            if !allowed.contains(&name) {
                return Err(unknown());
            }
            let value = match inline {
                Some(value) => value,
                None => args
                    .next()
                    .cloned()
                    .ok_or_else(|| UsageError::MissingValue(arg.clone()))?,
            };
            values.push((name.to_owned(), value));
        }
        Ok(Options(values))
    }

    fn last<'a>(&'a self, name: &'a str) -> Option<&'a str> {
        self.all(name).next_back()
    }

    fn all<'a>(&'a self, name: &'a str) -> impl DoubleEndedIterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn serve_defaults_and_params() {
        let Ok(Command::Serve(serve)) = parse(&args(
            "serve --param SessionSecret=a=b --param=Stage=dev --listen 127.0.0.1:3001",
        )) else {
            panic!("not serve");
        };
        assert_eq!(serve.stack.template, PathBuf::from("template.yaml"));
        assert_eq!(serve.stack.endpoint, "http://127.0.0.1:4566");
        assert_eq!(serve.stack.prefix, "anumi-local-");
        assert_eq!(serve.stack.params["SessionSecret"], "a=b");
        assert_eq!(serve.stack.params["Stage"], "dev");
        assert_eq!(serve.listen.port(), 3001);
        assert_eq!(serve.bin_dir, PathBuf::from("target/debug"));
        assert!(serve.bin_overrides.is_empty() && serve.env.is_empty());
        assert_eq!(serve.web_dir, None);
        let Ok(Command::Serve(serve)) = parse(&args("serve --web-dir web/dist")) else {
            panic!("not serve");
        };
        assert_eq!(serve.web_dir, Some(PathBuf::from("web/dist")));
    }

    #[test]
    fn serve_overrides_binaries_and_environment() {
        let Ok(Command::Serve(serve)) = parse(&args(
            "serve --bin-override ModerateFunction=/x/probe-lambda --env RUST_LOG=debug --env ModerateFunction:PROBE_EVENTS_FILE=/tmp/a=b",
        )) else {
            panic!("not serve");
        };
        assert_eq!(
            serve.bin_overrides["ModerateFunction"],
            PathBuf::from("/x/probe-lambda")
        );
        assert_eq!(
            serve.env,
            [
                EnvOverride {
                    function: None,
                    key: "RUST_LOG".into(),
                    value: "debug".into()
                },
                EnvOverride {
                    function: Some("ModerateFunction".into()),
                    key: "PROBE_EVENTS_FILE".into(),
                    value: "/tmp/a=b".into()
                }
            ]
        );
        for bad in [
            "serve --env :K=v",
            "serve --env F:=v",
            "serve --bin-override x",
        ] {
            assert!(
                matches!(parse(&args(bad)), Err(UsageError::Invalid { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn trigger_takes_a_function_and_an_optional_event() {
        assert_eq!(
            parse(&args(
                "trigger RetentionFunction --listen 127.0.0.1:3005 --event Nightly"
            )),
            Ok(Command::Trigger(TriggerArgs {
                function: "RetentionFunction".into(),
                event: Some("Nightly".into()),
                listen: "127.0.0.1:3005".parse().expect("address"),
                clock_offset_seconds: None,
            }))
        );
        let Ok(Command::Trigger(defaults)) = parse(&args("trigger F")) else {
            panic!("not trigger");
        };
        assert_eq!((defaults.event, defaults.listen.port()), (None, 3000));
        assert_eq!(
            parse(&args("trigger --listen 127.0.0.1:1")),
            Err(UsageError::Required("the function's logical id"))
        );
        assert_eq!(
            parse(&args("trigger")),
            Err(UsageError::Required("the function's logical id"))
        );
    }

    #[test]
    fn trigger_takes_a_clock_offset_in_seconds_minutes_hours_or_days() {
        let offset = |arg: &str| match parse(&args(&format!("trigger F --clock-offset {arg}"))) {
            Ok(Command::Trigger(trigger)) => trigger.clock_offset_seconds,
            other => panic!("{other:?}"),
        };
        assert_eq!(offset("31d"), Some(31 * 86_400));
        assert_eq!(offset("12h"), Some(43_200));
        assert_eq!(offset("15m"), Some(900));
        assert_eq!(offset("90"), Some(90));
        assert!(matches!(
            parse(&args("trigger F --clock-offset 3w")),
            Err(UsageError::Invalid {
                option: "--clock-offset",
                ..
            })
        ));
    }

    #[test]
    fn measure_requires_bin_and_parses_env() {
        assert_eq!(
            parse(&args("measure-cold-start")),
            Err(UsageError::Required("--bin"))
        );
        let Ok(Command::MeasureColdStart(m)) = parse(&args(
            "measure-cold-start --bin x --env A=1 --env B=2 --runs 3",
        )) else {
            panic!("not measure");
        };
        assert_eq!((m.runs, m.env.len(), m.event), (3, 2, None));
    }

    #[test]
    fn mistakes_are_reported() {
        assert!(matches!(
            parse(&args("serve --nope 1")),
            Err(UsageError::UnknownOption { .. })
        ));
        assert!(matches!(
            parse(&args("serve --param novalue")),
            Err(UsageError::Invalid { .. })
        ));
        assert_eq!(
            parse(&args("serve --prefix")),
            Err(UsageError::MissingValue("--prefix".into()))
        );
        assert_eq!(
            parse(&args("deploy")),
            Err(UsageError::UnknownCommand("deploy".into()))
        );
    }
}
