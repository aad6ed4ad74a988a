//! `serve` and `provision`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use local_stack::gateway::{ApiContext, Gateway, Invoke, Router};
use local_stack::mailbox::{self, Mailbox};
use local_stack::provision::{self, Provisioned};
use local_stack::runtime_api::{FunctionOptions, FunctionProcess};
use local_stack::template::{FunctionSpec, Template};
use tokio::net::TcpListener;

use super::CliError;
use super::args::{ProvisionArgs, ServeArgs};

/// Functions get this long to reach their first poll before we report them as not ready.
const READY_WAIT: Duration = Duration::from_secs(10);

pub async fn provision_only(args: ProvisionArgs) -> Result<(), CliError> {
    let template = Template::load(&args.template)?;
    let provisioned = create_resources(&template, &args).await?;
    for logical_id in provisioned.resources().keys() {
        if let Some(name) = provisioned.physical_name(logical_id) {
            println!("{logical_id}\t{name}");
        }
    }
    Ok(())
}

pub async fn serve(args: ServeArgs) -> Result<(), CliError> {
    let template = Template::load(&args.stack.template)?;
    check_binaries(&template, &args)?;
    // Bound before anything starts, so a taken port fails fast.
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| CliError::Listen {
            address: args.listen,
            source,
        })?;
    let provisioned = create_resources(&template, &args.stack).await?;
    let functions = spawn_functions(&template, &provisioned, &args).await?;
    let gateway = gateway(&template, &provisioned, &functions, args.listen.port())?;
    let mailbox = tokio::spawn(
        Mailbox::new(&args.stack.endpoint)?.run(Duration::from_secs(1), std::future::pending()),
    );
    print_banner(&args);
    Arc::new(gateway).serve(listener, shutdown_signal()).await;
    tracing::info!("stopping");
    mailbox.abort();
    for function in &functions {
        function.kill().await;
    }
    Ok(())
}

pub(super) async fn create_resources(
    template: &Template,
    args: &ProvisionArgs,
) -> Result<Provisioned, CliError> {
    let config = provision::emulation_config(&args.endpoint).await;
    provision::provision(template, &config, &args.prefix, &args.params)
        .await
        .map_err(|source| CliError::Provision {
            endpoint: args.endpoint.clone(),
            source,
        })
}

/// Every function's binary must exist: a route without its function would otherwise only
/// show up as a 500 at request time. Checked before provisioning, so the error comes first.
fn check_binaries(template: &Template, args: &ServeArgs) -> Result<(), CliError> {
    for spec in template.functions() {
        let path = args.bin_dir.join(&spec.binary);
        if !path.is_file() {
            return Err(CliError::MissingBinary {
                function: spec.logical_id.clone(),
                binary: spec.binary.clone(),
                path,
            });
        }
    }
    Ok(())
}

async fn spawn_functions(
    template: &Template,
    provisioned: &Provisioned,
    args: &ServeArgs,
) -> Result<Vec<Arc<FunctionProcess>>, CliError> {
    let mut processes = Vec::new();
    for spec in template.functions() {
        let process = spawn_function(&spec, provisioned, args).await?;
        match process.wait_first_poll(READY_WAIT).await {
            Ok(cold_start) => {
                tracing::info!(function = %spec.logical_id, ms = cold_start.as_millis() as u64, "function ready")
            }
            // Not fatal: the next request restarts it and shows the error again.
            Err(error) => {
                tracing::error!(function = %spec.logical_id, %error, "function did not start")
            }
        }
        processes.push(Arc::new(process));
    }
    Ok(processes)
}

async fn spawn_function(
    spec: &FunctionSpec,
    provisioned: &Provisioned,
    args: &ServeArgs,
) -> Result<FunctionProcess, CliError> {
    let path = args.bin_dir.join(&spec.binary);
    let env = provisioned.env_for(spec)?;
    let name = provisioned
        .physical_name(&spec.logical_id)
        .unwrap_or(&spec.logical_id);
    let options = FunctionOptions::from_spec(spec, name).endpoint_url(&args.stack.endpoint);
    FunctionProcess::spawn(&path, env, options)
        .await
        .map_err(|source| CliError::Spawn {
            function: spec.logical_id.clone(),
            source,
        })
}

fn gateway(
    template: &Template,
    provisioned: &Provisioned,
    processes: &[Arc<FunctionProcess>],
    port: u16,
) -> Result<Gateway, CliError> {
    let specs = template.functions();
    let functions: HashMap<String, Arc<dyn Invoke>> = specs
        .iter()
        .zip(processes)
        .map(|(spec, process)| {
            (
                spec.logical_id.clone(),
                Arc::clone(process) as Arc<dyn Invoke>,
            )
        })
        .collect();
    let cors = template
        .cors()
        .map(|cors| cors.resolve(provisioned.resolver()))
        .transpose()?;
    let context = ApiContext {
        port,
        ..ApiContext::default()
    };
    Ok(Gateway::new(
        Router::from_functions(&specs),
        functions,
        cors,
        context,
    ))
}

fn print_banner(args: &ServeArgs) {
    let endpoint = args.stack.endpoint.trim_end_matches('/');
    println!();
    println!("  API:       http://{}", args.listen);
    println!("  Emulation: {endpoint}");
    println!(
        "  Mail:      {endpoint}{} (new messages are also printed here)",
        mailbox::DATA_PATH
    );
    println!("  Ctrl-C stops everything.");
    println!();
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
        }
        Err(error) => {
            tracing::warn!(%error, "cannot watch SIGTERM; only Ctrl-C stops the stack");
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
