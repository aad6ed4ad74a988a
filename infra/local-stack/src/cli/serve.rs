//! `serve` and `provision`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use local_stack::events::{self, EventSources, Triggers};
use local_stack::gateway::{ApiContext, Gateway, Invoke, Router};
use local_stack::mailbox::{Mailbox, viewer};
use local_stack::provision::{self, Provisioned};
use local_stack::runtime_api::{FunctionOptions, FunctionProcess};
use local_stack::site::Site;
use local_stack::site::security::SecurityHeaders;
use local_stack::template::{FunctionSpec, Template};
use tokio::net::TcpListener;

use super::CliError;
use super::args::{ProvisionArgs, ServeArgs};

/// Functions get this long to reach their first poll before we report them as not ready.
const READY_WAIT: Duration = Duration::from_secs(10);
/// Pollers and schedules get this long to finish what they are doing at shutdown.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The running functions by logical id.
type Functions = HashMap<String, Arc<dyn Invoke>>;

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
    check_overrides(&template, &args)?;
    check_binaries(&template, &args)?;
    // Bound before anything starts, so a taken port fails fast.
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| CliError::Listen {
            address: args.listen,
            source,
        })?;
    let provisioned = create_resources(&template, &args.stack).await?;
    let processes = spawn_functions(&template, &provisioned, &args).await?;
    let functions = by_logical_id(&template, &processes);
    let sources = start_event_sources(&template, &provisioned, &functions, &args).await?;
    let mut triggers = triggers(&template, &functions, &args.stack.prefix, &provisioned);
    if let Some(checkout) = local_checkout(&template, &provisioned, &functions, &args)? {
        triggers.set_local_checkout(checkout);
    }
    triggers.set_mailbox(Mailbox::new(&args.stack.endpoint)?);
    let mut gateway =
        gateway(&template, &provisioned, &functions, &args)?.with_triggers(Arc::new(triggers));
    if let Some(web_dir) = &args.web_dir {
        let storage = storage_origin(&args.stack.endpoint);
        gateway = gateway.with_site(Site::new(web_dir)?, SecurityHeaders::new(&[storage])?);
    }
    let base = public_base(&args);
    let mailbox = tokio::spawn(Mailbox::new(&args.stack.endpoint)?.announce(
        format!("{base}{}", viewer::PATH),
        Duration::from_secs(1),
        std::future::pending(),
    ));
    print_banner(&args, &base);
    Arc::new(gateway).serve(listener, shutdown_signal()).await;
    tracing::info!("stopping");
    sources.stop(STOP_GRACE).await;
    mailbox.abort();
    for process in &processes {
        process.kill().await;
    }
    Ok(())
}

/// Starts the SQS pollers and the schedules of every function.
async fn start_event_sources(
    template: &Template,
    provisioned: &Provisioned,
    functions: &Functions,
    args: &ServeArgs,
) -> Result<EventSources, CliError> {
    let config = provision::emulation_config(&args.stack.endpoint).await;
    let sqs = aws_sdk_sqs::Client::new(&config);
    let mappings = events::sqs_mappings(template, provisioned, &sqs).await?;
    events::check_visibility_timeouts(&mappings, template, &sqs).await;
    let region = provisioned.resolver().region();
    let schedules = template
        .functions()
        .iter()
        .flat_map(|spec| {
            events::schedule_targets(spec, &args.stack.prefix, region)
                .into_iter()
                .map(|target| (spec.logical_id.clone(), target))
        })
        .collect();
    Ok(EventSources::start(
        mappings, schedules, functions, &sqs, region,
    ))
}

/// Every function's schedules, for `local-stack trigger`.
fn triggers(
    template: &Template,
    functions: &Functions,
    prefix: &str,
    provisioned: &Provisioned,
) -> Triggers {
    let region = provisioned.resolver().region();
    let mut triggers = Triggers::new(region);
    for spec in template.functions() {
        if let Some(invoke) = functions.get(&spec.logical_id) {
            let targets = events::schedule_targets(&spec, prefix, region);
            triggers.add(&spec.logical_id, Arc::clone(invoke), targets);
        }
    }
    triggers
}

/// The stand-in of Polar's hosted checkout, when the polar-webhook function runs with
/// `POLAR_SERVER=local`, keyed with that function's own webhook secret.
fn local_checkout(
    template: &Template,
    provisioned: &Provisioned,
    functions: &Functions,
    args: &ServeArgs,
) -> Result<Option<local_stack::local_checkout::LocalCheckout>, CliError> {
    for spec in template.functions() {
        let env = environment(&spec, provisioned, args)?;
        let (Some(invoke), Some("local"), Some(secret)) = (
            functions.get(&spec.logical_id),
            env.get("POLAR_SERVER").map(String::as_str),
            env.get("POLAR_WEBHOOK_SECRET"),
        ) else {
            continue;
        };
        let format = env
            .get("POLAR_WEBHOOK_KEY_FORMAT")
            .map_or("auto", String::as_str);
        let app_origin = env.get("APP_ORIGIN").map_or("", String::as_str);
        return Ok(Some(local_stack::local_checkout::LocalCheckout::new(
            Arc::clone(invoke),
            secret,
            format,
            app_origin,
        )));
    }
    Ok(None)
}

/// Overrides must name functions of the template: a typo would otherwise run the real
/// binary (or none) without a word.
fn check_overrides(template: &Template, args: &ServeArgs) -> Result<(), CliError> {
    let named = args
        .bin_overrides
        .keys()
        .chain(args.env.iter().filter_map(|e| e.function.as_ref()));
    for function in named {
        if template.function(function).is_none() {
            return Err(CliError::UnknownFunction(function.clone()));
        }
    }
    Ok(())
}

/// The binary that runs `spec`: its override, else the cargo binary in `--bin-dir`.
fn binary_path(spec: &FunctionSpec, args: &ServeArgs) -> PathBuf {
    args.bin_overrides
        .get(&spec.logical_id)
        .cloned()
        .unwrap_or_else(|| args.bin_dir.join(&spec.binary))
}

/// The template's environment with the `--env` overrides, global ones first.
fn environment(
    spec: &FunctionSpec,
    provisioned: &Provisioned,
    args: &ServeArgs,
) -> Result<BTreeMap<String, String>, CliError> {
    let mut env = provisioned.env_for(spec)?;
    let overrides = args.env.iter().filter(|e| e.function.is_none()).chain(
        args.env
            .iter()
            .filter(|e| e.function.as_deref() == Some(spec.logical_id.as_str())),
    );
    for variable in overrides {
        env.insert(variable.key.clone(), variable.value.clone());
    }
    Ok(env)
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
        let path = binary_path(&spec, args);
        if !path.is_file() && args.bin_overrides.contains_key(&spec.logical_id) {
            return Err(CliError::MissingOverride {
                function: spec.logical_id.clone(),
                path,
            });
        }
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
    let path = binary_path(spec, args);
    let env = environment(spec, provisioned, args)?;
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

fn by_logical_id(template: &Template, processes: &[Arc<FunctionProcess>]) -> Functions {
    template
        .functions()
        .iter()
        .zip(processes)
        .map(|(spec, process)| {
            (
                spec.logical_id.clone(),
                Arc::clone(process) as Arc<dyn Invoke>,
            )
        })
        .collect()
}

fn gateway(
    template: &Template,
    provisioned: &Provisioned,
    functions: &Functions,
    args: &ServeArgs,
) -> Result<Gateway, CliError> {
    let cors = template
        .cors()
        .map(|cors| cors.resolve(provisioned.resolver()))
        .transpose()?;
    let context = ApiContext {
        port: args.listen.port(),
        domain_name: args.listen.to_string(),
        ..ApiContext::default()
    };
    Ok(Gateway::new(
        Router::from_functions(&template.functions()),
        functions.clone(),
        cors,
        context,
    ))
}

/// The origin of presigned URLs: the emulation's scheme, host and port.
fn storage_origin(endpoint: &str) -> String {
    let after_scheme = endpoint.find("://").map_or(0, |at| at + 3);
    let end = endpoint[after_scheme..]
        .find('/')
        .map_or(endpoint.len(), |at| after_scheme + at);
    endpoint[..end].to_owned()
}

/// Where a person reaches the stack: the app origin when the stack serves the app (its
/// `AppOrigin` names `localhost`, which the browser treats as secure), else the listen
/// address.
fn public_base(args: &ServeArgs) -> String {
    match (&args.web_dir, args.stack.params.get("AppOrigin")) {
        (Some(_), Some(origin)) => origin.trim_end_matches('/').to_owned(),
        _ => format!("http://{}", args.listen),
    }
}

fn print_banner(args: &ServeArgs, base: &str) {
    let endpoint = args.stack.endpoint.trim_end_matches('/');
    println!();
    if args.web_dir.is_some() {
        println!("  Open:      {base}/  (the app; the API is {base}/api)");
    } else {
        println!("  API:       {base}");
    }
    println!(
        "  Mail:      {base}{}  (every email sent, with working links)",
        viewer::PATH
    );
    println!("  Local:     {base}/_local/  (local-only pages, loopback clients only)");
    println!(
        "  Schedules: local-stack trigger <LogicalId> --listen {} (POST /_local/functions/<LogicalId>/invoke-schedule)",
        args.listen
    );
    println!("  Emulation: {endpoint}");
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
