//! The `local-stack` subcommands.

pub mod args;
mod measure;
mod serve;
mod trigger;

use std::path::PathBuf;

use thiserror::Error;

use local_stack::events::EventSourceError;
use local_stack::mailbox::MailboxError;
use local_stack::provision::ProvisionError;
use local_stack::runtime_api::{InvokeError, SpawnError};
use local_stack::site::SiteError;
use local_stack::site::security::InvalidOrigin;
use local_stack::template::{EnvError, ResolveError, TemplateError};

use args::Command;

#[derive(Debug, Error)]
pub enum CliError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error(transparent)]
    Env(#[from] EnvError),
    #[error("{source} (is the AWS emulation running at {endpoint}?)")]
    Provision {
        endpoint: String,
        #[source]
        source: ProvisionError,
    },
    #[error(
        "function {function}: binary {} not found; build it with `cargo build --bin {binary}`",
        path.display()
    )]
    MissingBinary {
        function: String,
        binary: String,
        path: PathBuf,
    },
    #[error("function {function}: --bin-override binary {} not found", path.display())]
    MissingOverride { function: String, path: PathBuf },
    #[error("function {function}: {source}")]
    Spawn {
        function: String,
        #[source]
        source: SpawnError,
    },
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Mailbox(#[from] MailboxError),
    #[error(transparent)]
    Site(#[from] SiteError),
    #[error("--endpoint: {0}")]
    StorageOrigin(#[from] InvalidOrigin),
    #[error("the template has no function {0}")]
    UnknownFunction(String),
    #[error("cannot read the event file {path}: {source}")]
    Event {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the event file {path} is not JSON: {source}")]
    EventJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    EventSource(#[from] EventSourceError),
    #[error("cannot reach `local-stack serve` at {address} (is it running there?): {message}")]
    TriggerUnreachable {
        address: std::net::SocketAddr,
        message: String,
    },
    #[error("trigger failed ({status}): {body}")]
    TriggerFailed { status: u16, body: String },
    #[error("cold start run {run}: {source}")]
    ColdStart {
        run: usize,
        #[source]
        source: InvokeError,
    },
}

pub async fn run(command: Command) -> Result<(), CliError> {
    match command {
        Command::Serve(args) => serve::serve(args).await,
        Command::Provision(args) => serve::provision_only(args).await,
        Command::MeasureColdStart(args) => measure::measure(args).await,
        Command::Trigger(args) => trigger::trigger(args).await,
        Command::Help => {
            println!("{}", args::USAGE);
            Ok(())
        }
    }
}
