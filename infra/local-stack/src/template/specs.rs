//! Typed views of template resources.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_norway::Value;

use super::{Expr, ResolveError, Resolver, Resource, TemplateError};
use crate::events::schedule::{ScheduleExpression, ScheduleKind};

/// Lambda's own defaults, used when neither the function nor Globals set a value.
const DEFAULT_MEMORY_MB: u32 = 128;
const DEFAULT_TIMEOUT_SECS: u32 = 3;

/// A declared parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParameterSpec {
    pub kind: String,
    pub default: Option<String>,
    pub allowed_values: Vec<String>,
    pub no_echo: bool,
}

impl ParameterSpec {
    /// `AWS::SSM::Parameter::Value<...>`: the deployed value is read from SSM, so the Default
    /// is a parameter *name*, not a usable value; local runs should override it.
    pub fn is_ssm(&self) -> bool {
        self.kind.starts_with("AWS::SSM::Parameter::Value")
    }

    pub(super) fn check_allowed(&self, name: &str, value: &str) -> Result<(), ResolveError> {
        if self.allowed_values.is_empty() || self.allowed_values.iter().any(|a| a == value) {
            return Ok(());
        }
        Err(ResolveError::NotAllowed {
            name: name.to_owned(),
            value: value.to_owned(),
            allowed: self.allowed_values.clone(),
        })
    }
}

/// `AWS::DynamoDB::Table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub logical_id: String,
    pub attributes: Vec<AttributeDefinition>,
    pub key: KeySchema,
    pub global_secondary_indexes: Vec<GsiSpec>,
    /// Set when `TimeToLiveSpecification.Enabled` is true.
    pub ttl_attribute: Option<String>,
}

/// One `AttributeDefinitions` entry; `attribute_type` is `S`, `N` or `B`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDefinition {
    pub name: String,
    pub attribute_type: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchema {
    pub hash: String,
    pub range: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GsiSpec {
    pub name: String,
    pub key: KeySchema,
    pub projection: Projection,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Projection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

/// `AWS::S3::Bucket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketSpec {
    pub logical_id: String,
    /// `NotificationConfiguration.QueueConfigurations`.
    pub queue_notifications: Vec<QueueNotificationSpec>,
    /// `CorsConfiguration.CorsRules`: how the bucket answers browsers (presigned `PUT`s).
    pub cors_rules: Vec<BucketCorsRuleSpec>,
}

/// One `CorsRules` entry, origins still unresolved (usually `!Ref AppOrigin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketCorsRuleSpec {
    pub id: Option<String>,
    pub allowed_origins: Vec<Expr>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub exposed_headers: Vec<String>,
    pub max_age: Option<u32>,
}

/// One `QueueConfigurations` entry: S3 sends `event`s on keys matching `filter_rules` to the
/// queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueNotificationSpec {
    /// E.g. `s3:ObjectCreated:*`.
    pub event: String,
    /// The queue's ARN, usually `!GetAtt Queue.Arn`.
    pub queue: Expr,
    /// `Filter.S3Key.Rules` as (`prefix` or `suffix`, value).
    pub filter_rules: Vec<(String, String)>,
}

/// `AWS::SQS::Queue`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSpec {
    pub logical_id: String,
    pub fifo: bool,
    pub content_based_deduplication: bool,
    pub visibility_timeout: Option<u32>,
    pub redrive_policy: Option<RedrivePolicy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePolicy {
    /// Usually `!GetAtt DeadLetterQueue.Arn`.
    pub dead_letter_target_arn: Expr,
    pub max_receive_count: u32,
}

/// `AWS::SES::EmailIdentity`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailIdentitySpec {
    pub logical_id: String,
    /// Usually `!Ref EmailFrom`; see [`EmailIdentitySpec::resolve`].
    pub identity: Expr,
}

impl EmailIdentitySpec {
    /// The identity (address or domain) with parameters applied.
    pub fn resolve(&self, resolver: &Resolver) -> Result<String, ResolveError> {
        resolver.resolve(&self.identity)
    }
}

/// `AWS::Serverless::Function` with Globals applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// The cargo binary (`Metadata.BuildProperties.Binary`, else the lowercased logical id).
    pub binary: String,
    pub memory_size_mb: u32,
    pub timeout_secs: u32,
    /// Globals' variables overlaid with the function's own.
    pub environment: BTreeMap<String, Expr>,
    pub routes: Vec<HttpRoute>,
    /// `SQS` events: the queues Lambda polls for this function.
    pub sqs_events: Vec<SqsEventSpec>,
    /// `Schedule` and `ScheduleV2` events.
    pub schedules: Vec<ScheduleSpec>,
}

/// An `SQS` event: an event source mapping from a queue to the function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsEventSpec {
    pub event: String,
    /// The queue's ARN, usually `!GetAtt Queue.Arn`.
    pub queue: Expr,
    /// Messages per invocation at most (SAM's default: 10).
    pub batch_size: u32,
    /// `FunctionResponseTypes: [ReportBatchItemFailures]`.
    pub report_batch_item_failures: bool,
    pub enabled: bool,
}

/// A `Schedule` (EventBridge rule) or `ScheduleV2` (EventBridge Scheduler) event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSpec {
    pub event: String,
    pub kind: ScheduleKind,
    pub expression: ScheduleExpression,
    /// `Input`: JSON text delivered instead of the scheduled event.
    pub input: Option<String>,
    /// `Enabled: false` or `State: DISABLED` turn the schedule off (it can still be triggered).
    pub enabled: bool,
}

impl FunctionSpec {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.timeout_secs))
    }
}

/// An `HttpApi` event: `method` is uppercase (`ANY` for any), `path` may hold `{param}` and
/// `{proxy+}` segments; an event without method and path is the `$default` route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRoute {
    pub event: String,
    pub method: String,
    pub path: String,
}

impl HttpRoute {
    /// Whether this is the catch-all `$default` route.
    pub fn is_default(&self) -> bool {
        self.path == "$default"
    }

    /// The API Gateway route key, e.g. `POST /auth/otp/start` or `$default`.
    pub fn route_key(&self) -> String {
        if self.is_default() {
            "$default".to_owned()
        } else {
            format!("{} {}", self.method, self.path)
        }
    }
}

/// `CorsConfiguration` of an HttpApi, origins still unresolved (usually `!Ref AppOrigin`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsSpec {
    pub allow_origins: Vec<Expr>,
    pub allow_credentials: bool,
    pub allow_headers: Vec<String>,
    pub allow_methods: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u32>,
}

impl CorsSpec {
    pub fn resolve(&self, resolver: &Resolver) -> Result<Cors, ResolveError> {
        Ok(Cors {
            allow_origins: self
                .allow_origins
                .iter()
                .map(|o| resolver.resolve(o))
                .collect::<Result<_, _>>()?,
            allow_credentials: self.allow_credentials,
            allow_headers: self.allow_headers.clone(),
            allow_methods: self.allow_methods.clone(),
            expose_headers: self.expose_headers.clone(),
            max_age: self.max_age,
        })
    }
}

/// A CORS configuration ready to apply.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cors {
    pub allow_origins: Vec<String>,
    pub allow_credentials: bool,
    pub allow_headers: Vec<String>,
    pub allow_methods: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age: Option<u32>,
}

pub(super) fn parameters(
    value: Option<&Value>,
) -> Result<BTreeMap<String, ParameterSpec>, TemplateError> {
    let Some(map) = value.and_then(Value::as_mapping) else {
        return Ok(BTreeMap::new());
    };
    let mut out = BTreeMap::new();
    for (name, body) in map {
        let name = name
            .as_str()
            .ok_or_else(|| TemplateError::Shape("a parameter name is not a string".into()))?;
        let f = Fields::new(name, body);
        out.insert(
            name.to_owned(),
            ParameterSpec {
                kind: f.string("Type")?.unwrap_or_else(|| "String".to_owned()),
                default: f.string("Default")?,
                allowed_values: f.strings("AllowedValues")?,
                no_echo: f.boolean("NoEcho")?.unwrap_or(false),
            },
        );
    }
    Ok(out)
}

pub(super) fn table(r: &Resource) -> Result<TableSpec, TemplateError> {
    let props = Fields::new(&r.logical_id, &r.properties);
    let attributes = props
        .list("AttributeDefinitions")?
        .iter()
        .map(|a| {
            let a = props.nested(a);
            Ok(AttributeDefinition {
                name: a.required_string("AttributeName")?,
                attribute_type: a.required_string("AttributeType")?,
            })
        })
        .collect::<Result<_, TemplateError>>()?;
    let gsis = props
        .list("GlobalSecondaryIndexes")?
        .iter()
        .map(|g| gsi(&props.nested(g)))
        .collect::<Result<_, _>>()?;
    Ok(TableSpec {
        logical_id: r.logical_id.clone(),
        attributes,
        key: key_schema(&props)?,
        global_secondary_indexes: gsis,
        ttl_attribute: ttl(&props)?,
    })
}

fn key_schema(f: &Fields) -> Result<KeySchema, TemplateError> {
    let mut hash = None;
    let mut range = None;
    for element in f.list("KeySchema")? {
        let e = f.nested(element);
        let name = e.required_string("AttributeName")?;
        match e.required_string("KeyType")?.as_str() {
            "HASH" => hash = Some(name),
            "RANGE" => range = Some(name),
            other => return Err(f.error(format!("unknown KeyType {other}"))),
        }
    }
    let hash = hash.ok_or_else(|| f.error("KeySchema has no HASH key".to_owned()))?;
    Ok(KeySchema { hash, range })
}

fn gsi(f: &Fields) -> Result<GsiSpec, TemplateError> {
    let projection = f.nested(f.get("Projection").unwrap_or(&Value::Null));
    let projection = match projection.string("ProjectionType")?.as_deref() {
        None | Some("ALL") => Projection::All,
        Some("KEYS_ONLY") => Projection::KeysOnly,
        Some("INCLUDE") => Projection::Include(projection.strings("NonKeyAttributes")?),
        Some(other) => return Err(f.error(format!("unknown ProjectionType {other}"))),
    };
    Ok(GsiSpec {
        name: f.required_string("IndexName")?,
        key: key_schema(f)?,
        projection,
    })
}

fn ttl(props: &Fields) -> Result<Option<String>, TemplateError> {
    let Some(spec) = props.get("TimeToLiveSpecification") else {
        return Ok(None);
    };
    let spec = props.nested(spec);
    if spec.boolean("Enabled")? != Some(true) {
        return Ok(None);
    }
    spec.required_string("AttributeName").map(Some)
}

pub(super) fn bucket(r: &Resource) -> Result<BucketSpec, TemplateError> {
    let props = Fields::new(&r.logical_id, &r.properties);
    let notifications = props.nested(
        props
            .get("NotificationConfiguration")
            .unwrap_or(&Value::Null),
    );
    let queue_notifications = notifications
        .list("QueueConfigurations")?
        .iter()
        .map(|entry| queue_notification(&props.nested(entry)))
        .collect::<Result<_, _>>()?;
    let cors = props.nested(props.get("CorsConfiguration").unwrap_or(&Value::Null));
    let cors_rules = cors
        .list("CorsRules")?
        .iter()
        .map(|rule| bucket_cors_rule(&props.nested(rule)))
        .collect::<Result<_, _>>()?;
    Ok(BucketSpec {
        logical_id: r.logical_id.clone(),
        queue_notifications,
        cors_rules,
    })
}

fn bucket_cors_rule(f: &Fields) -> Result<BucketCorsRuleSpec, TemplateError> {
    let allowed_origins = f
        .list("AllowedOrigins")?
        .iter()
        .map(Expr::from_value)
        .collect();
    Ok(BucketCorsRuleSpec {
        id: f.string("Id")?,
        allowed_origins,
        allowed_methods: f.strings("AllowedMethods")?,
        allowed_headers: f.strings("AllowedHeaders")?,
        exposed_headers: f.strings("ExposedHeaders")?,
        max_age: f.number("MaxAge")?,
    })
}

fn queue_notification(f: &Fields) -> Result<QueueNotificationSpec, TemplateError> {
    let queue = f
        .get("Queue")
        .ok_or_else(|| f.error("a QueueConfigurations entry has no Queue".into()))?;
    let key_filter = f
        .get("Filter")
        .and_then(|filter| filter.get("S3Key"))
        .unwrap_or(&Value::Null);
    let filter_rules = f
        .nested(key_filter)
        .list("Rules")?
        .iter()
        .map(|rule| {
            let rule = f.nested(rule);
            Ok((
                rule.required_string("Name")?,
                rule.required_string("Value")?,
            ))
        })
        .collect::<Result<_, TemplateError>>()?;
    Ok(QueueNotificationSpec {
        event: f.required_string("Event")?,
        queue: Expr::from_value(queue),
        filter_rules,
    })
}

pub(super) fn queue(r: &Resource) -> Result<QueueSpec, TemplateError> {
    let props = Fields::new(&r.logical_id, &r.properties);
    let redrive_policy = match props.get("RedrivePolicy") {
        Some(policy) => {
            let policy = props.nested(policy);
            let target = policy
                .get("deadLetterTargetArn")
                .ok_or_else(|| props.error("RedrivePolicy has no deadLetterTargetArn".into()))?;
            Some(RedrivePolicy {
                dead_letter_target_arn: Expr::from_value(target),
                max_receive_count: policy.number("maxReceiveCount")?.unwrap_or(10),
            })
        }
        None => None,
    };
    Ok(QueueSpec {
        logical_id: r.logical_id.clone(),
        fifo: props.boolean("FifoQueue")?.unwrap_or(false),
        content_based_deduplication: props.boolean("ContentBasedDeduplication")?.unwrap_or(false),
        visibility_timeout: props.number("VisibilityTimeout")?,
        redrive_policy,
    })
}

pub(super) fn email_identity(r: &Resource) -> Result<EmailIdentitySpec, TemplateError> {
    let props = Fields::new(&r.logical_id, &r.properties);
    let identity = props
        .get("EmailIdentity")
        .ok_or_else(|| props.error("has no EmailIdentity".into()))?;
    Ok(EmailIdentitySpec {
        logical_id: r.logical_id.clone(),
        identity: Expr::from_value(identity),
    })
}

pub(super) fn function(r: &Resource, globals: &Value) -> Result<FunctionSpec, TemplateError> {
    let props = Fields::new(&r.logical_id, &r.properties);
    let global = Fields::new(
        "Globals.Function",
        globals.get("Function").unwrap_or(&Value::Null),
    );
    let metadata = Fields::new(&r.logical_id, &r.metadata);
    let binary = match metadata.get("BuildProperties") {
        Some(build) => metadata.nested(build).string("Binary")?,
        None => None,
    };
    let mut environment = variables(&global)?;
    environment.extend(variables(&props)?);
    Ok(FunctionSpec {
        logical_id: r.logical_id.clone(),
        binary: binary.unwrap_or_else(|| r.logical_id.to_lowercase()),
        memory_size_mb: first_number(&props, &global, "MemorySize", DEFAULT_MEMORY_MB)?,
        timeout_secs: first_number(&props, &global, "Timeout", DEFAULT_TIMEOUT_SECS)?,
        environment,
        routes: routes(&props)?,
        sqs_events: sqs_events(&props)?,
        schedules: schedules(&props)?,
    })
}

/// The function's `Events` of `kinds`, as (name, type, properties).
fn events<'a>(
    props: &Fields<'a>,
    kinds: &[&str],
) -> Result<Vec<(String, String, Fields<'a>)>, TemplateError> {
    let Some(events) = props.get("Events").and_then(Value::as_mapping) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for (name, event) in events {
        let e = props.nested(event);
        let Some(kind) = e.string("Type")?.filter(|k| kinds.contains(&k.as_str())) else {
            continue;
        };
        let name = name.as_str().unwrap_or_default().to_owned();
        found.push((
            name,
            kind,
            e.nested(e.get("Properties").unwrap_or(&Value::Null)),
        ));
    }
    Ok(found)
}

fn sqs_events(props: &Fields) -> Result<Vec<SqsEventSpec>, TemplateError> {
    events(props, &["SQS"])?
        .into_iter()
        .map(|(event, _, p)| {
            let queue = p
                .get("Queue")
                .ok_or_else(|| p.error(format!("SQS event {event} has no Queue")))?;
            Ok(SqsEventSpec {
                queue: Expr::from_value(queue),
                batch_size: p.number("BatchSize")?.unwrap_or(10),
                report_batch_item_failures: p
                    .strings("FunctionResponseTypes")?
                    .iter()
                    .any(|t| t == "ReportBatchItemFailures"),
                enabled: p.boolean("Enabled")?.unwrap_or(true),
                event,
            })
        })
        .collect()
}

fn schedules(props: &Fields) -> Result<Vec<ScheduleSpec>, TemplateError> {
    events(props, &["Schedule", "ScheduleV2"])?
        .into_iter()
        .map(|(event, kind, p)| {
            let (kind, field) = match kind.as_str() {
                "Schedule" => (ScheduleKind::Rule, "Schedule"),
                _ => (ScheduleKind::Scheduler, "ScheduleExpression"),
            };
            let text = p
                .string(field)?
                .ok_or_else(|| p.error(format!("{kind:?} event {event} has no {field}")))?;
            let expression = ScheduleExpression::parse(&text)
                .map_err(|e| p.error(format!("event {event}: {e}")))?;
            let input = p.string("Input")?;
            if let Some(input) = &input {
                serde_json::from_str::<serde_json::Value>(input)
                    .map_err(|e| p.error(format!("event {event}: Input is not JSON: {e}")))?;
            }
            let disabled = p.boolean("Enabled")? == Some(false)
                || p.string("State")?.as_deref() == Some("DISABLED");
            Ok(ScheduleSpec {
                event,
                kind,
                expression,
                input,
                enabled: !disabled,
            })
        })
        .collect()
}

fn first_number(
    own: &Fields,
    global: &Fields,
    key: &str,
    default: u32,
) -> Result<u32, TemplateError> {
    Ok(own.number(key)?.or(global.number(key)?).unwrap_or(default))
}

/// `Environment.Variables` as expressions.
fn variables(f: &Fields) -> Result<BTreeMap<String, Expr>, TemplateError> {
    let Some(vars) = f.get("Environment").and_then(|e| e.get("Variables")) else {
        return Ok(BTreeMap::new());
    };
    let vars = vars
        .as_mapping()
        .ok_or_else(|| f.error("Environment.Variables is not a mapping".into()))?;
    vars.iter()
        .map(|(k, v)| {
            let name = k
                .as_str()
                .ok_or_else(|| f.error("an environment variable name is not a string".into()))?;
            Ok((name.to_owned(), Expr::from_value(v)))
        })
        .collect()
}

fn routes(props: &Fields) -> Result<Vec<HttpRoute>, TemplateError> {
    events(props, &["HttpApi"])?
        .into_iter()
        .map(|(event, _, p)| {
            let method = p.string("Method")?.map(|m| m.to_uppercase());
            let method = match method.as_deref() {
                None | Some("*") | Some("X-AMAZON-APIGATEWAY-ANY-METHOD") => "ANY".to_owned(),
                Some(m) => m.to_owned(),
            };
            Ok(HttpRoute {
                event,
                method,
                path: p.string("Path")?.unwrap_or_else(|| "$default".to_owned()),
            })
        })
        .collect()
}

pub(super) fn cors(r: &Resource) -> Result<Option<CorsSpec>, TemplateError> {
    let props = Fields::new(&r.logical_id, &r.properties);
    let Some(config) = props.get("CorsConfiguration") else {
        return Ok(None);
    };
    let c = props.nested(config);
    let allow_origins = match c.get("AllowOrigins") {
        Some(Value::Sequence(origins)) => origins.iter().map(Expr::from_value).collect(),
        Some(_) => return Err(c.error("AllowOrigins is not a list".into())),
        None => Vec::new(),
    };
    Ok(Some(CorsSpec {
        allow_origins,
        allow_credentials: c.boolean("AllowCredentials")?.unwrap_or(false),
        allow_headers: c.strings("AllowHeaders")?,
        allow_methods: c.strings("AllowMethods")?,
        expose_headers: c.strings("ExposeHeaders")?,
        max_age: c.number("MaxAge")?,
    }))
}

/// Typed access to a mapping's fields, with errors naming the resource.
struct Fields<'a> {
    owner: &'a str,
    value: &'a Value,
}

impl<'a> Fields<'a> {
    fn new(owner: &'a str, value: &'a Value) -> Self {
        Fields { owner, value }
    }

    fn nested(&self, value: &'a Value) -> Fields<'a> {
        Fields::new(self.owner, value)
    }

    fn error(&self, message: String) -> TemplateError {
        TemplateError::Resource {
            resource: self.owner.to_owned(),
            message,
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.value.as_mapping()?.get(key)
    }

    /// A literal scalar as text; intrinsic functions are rejected where a literal is needed.
    fn string(&self, key: &str) -> Result<Option<String>, TemplateError> {
        let Some(value) = self.get(key) else {
            return Ok(None);
        };
        match Expr::from_value(value) {
            Expr::Literal(s) => Ok(Some(s)),
            _ => Err(self.error(format!("{key} must be a literal value locally"))),
        }
    }

    fn required_string(&self, key: &str) -> Result<String, TemplateError> {
        self.string(key)?
            .ok_or_else(|| self.error(format!("{key} is missing")))
    }

    fn strings(&self, key: &str) -> Result<Vec<String>, TemplateError> {
        self.list(key)?
            .iter()
            .map(|v| match Expr::from_value(v) {
                Expr::Literal(s) => Ok(s),
                _ => Err(self.error(format!("{key} must hold literal values locally"))),
            })
            .collect()
    }

    fn list(&self, key: &str) -> Result<&'a [Value], TemplateError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Sequence(items)) => Ok(items),
            Some(_) => Err(self.error(format!("{key} is not a list"))),
        }
    }

    fn number(&self, key: &str) -> Result<Option<u32>, TemplateError> {
        self.string(key)?
            .map(|s| {
                s.parse()
                    .map_err(|_| self.error(format!("{key} {s:?} is not a whole number")))
            })
            .transpose()
    }

    fn boolean(&self, key: &str) -> Result<Option<bool>, TemplateError> {
        match self.string(key)?.as_deref() {
            None => Ok(None),
            Some("true" | "True") => Ok(Some(true)),
            Some("false" | "False") => Ok(Some(false)),
            Some(other) => Err(self.error(format!("{key} {other:?} is not a boolean"))),
        }
    }
}
