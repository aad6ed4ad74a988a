//! Creates the template's resources in the AWS emulation.
//!
//! Every create is idempotent (an existing resource of the same name counts as created), so
//! `serve` can be restarted against a running emulation and tests can share one emulation,
//! each with its own name prefix.

use std::collections::{BTreeMap, HashMap};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types as ddb;
use aws_sdk_sqs::types::QueueAttributeName;
use thiserror::Error;

use crate::REGION;
use crate::template::{
    BucketSpec, EnvError, FunctionSpec, Physical, QueueSpec, ResolveError, Resolver, TableSpec,
    Template,
};

/// Why provisioning stopped.
#[derive(Debug, Error)]
pub enum ProvisionError {
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    #[error("cannot create {kind} {name}: {message}")]
    Create {
        kind: &'static str,
        name: String,
        message: String,
    },
}

impl ProvisionError {
    fn create(kind: &'static str, name: &str, error: impl std::error::Error) -> Self {
        ProvisionError::Create {
            kind,
            name: name.to_owned(),
            // The SDK's own Display is only "service error"; the context has the details.
            message: DisplayErrorContext(error).to_string(),
        }
    }
}

/// The created resources: physical names by logical id, and what functions need from them.
#[derive(Debug, Clone)]
pub struct Provisioned {
    resolver: Resolver,
}

impl Provisioned {
    /// Names and parameter values without creating anything (queue URLs are in the AWS form).
    pub fn plan(
        template: &Template,
        prefix: &str,
        params: &HashMap<String, String>,
    ) -> Result<Provisioned, ResolveError> {
        let resolver = Resolver::new(template, params, template.physical_resources(prefix))?;
        Ok(Provisioned { resolver })
    }

    /// Resolves template values against these resources and parameters.
    pub fn resolver(&self) -> &Resolver {
        &self.resolver
    }

    /// All physical resources by logical id.
    pub fn resources(&self) -> &BTreeMap<String, Physical> {
        self.resolver.physical_resources()
    }

    /// The physical name of a table, bucket, queue or function.
    pub fn physical_name(&self, logical_id: &str) -> Option<&str> {
        match self.resolver.physical(logical_id)? {
            Physical::Table { name }
            | Physical::Bucket { name }
            | Physical::Queue { name, .. }
            | Physical::Function { name }
            | Physical::Other { name } => Some(name),
            Physical::HttpApi { id } => Some(id),
            Physical::EmailIdentity => None,
        }
    }

    /// The URL of a queue, as the emulation reported it.
    pub fn queue_url(&self, logical_id: &str) -> Option<&str> {
        match self.resolver.physical(logical_id)? {
            Physical::Queue { url, .. } => Some(url),
            _ => None,
        }
    }

    /// A function's environment variables from the template, fully resolved.
    pub fn env_for(&self, function: &FunctionSpec) -> Result<BTreeMap<String, String>, EnvError> {
        self.resolver.function_environment(function)
    }
}

/// An SDK configuration for the emulation at `endpoint`: our region and dummy credentials,
/// so nothing is read from the developer's AWS profile.
pub async fn emulation_config(endpoint: &str) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "local-stack"))
        .load()
        .await
}

/// Creates every table, bucket, queue and email identity of the template, named
/// `{prefix}{LogicalId}` (adapted to each service's naming rules), then points the buckets'
/// notifications at their queues.
pub async fn provision(
    template: &Template,
    config: &SdkConfig,
    prefix: &str,
    params: &HashMap<String, String>,
) -> Result<Provisioned, ProvisionError> {
    let region = config.region().map_or(REGION.to_owned(), |r| r.to_string());
    warn_about_ssm_defaults(template, params);
    let mut physical = template.physical_resources(prefix);
    let plan = Resolver::new(template, params, physical.clone())?.with_region(&region);

    let dynamodb = aws_sdk_dynamodb::Client::new(config);
    for table in template.tables() {
        create_table(&dynamodb, &table, &name_of(&physical, &table.logical_id)).await?;
    }
    let s3 = aws_sdk_s3::Client::from_conf(
        // Path-style addressing: `bucket.127.0.0.1` would not resolve.
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    );
    for bucket in template.buckets() {
        let name = name_of(&physical, &bucket.logical_id);
        create_bucket(&s3, &name, &region).await?;
        configure_cors(&s3, &bucket, &name, &plan).await?;
    }
    let sqs = aws_sdk_sqs::Client::new(config);
    for queue in queues_in_dependency_order(template.queues()) {
        let url = create_queue(&sqs, &queue, &name_of(&physical, &queue.logical_id), &plan).await?;
        if let Some(Physical::Queue { url: planned, .. }) = physical.get_mut(&queue.logical_id) {
            *planned = url;
        }
    }
    // After the queues: S3 checks that a notification's queue exists.
    for bucket in template.buckets() {
        let name = name_of(&physical, &bucket.logical_id);
        configure_notifications(&s3, &bucket, &name, &plan).await?;
    }
    let ses = aws_sdk_sesv2::Client::new(config);
    for identity in template.email_identities() {
        create_identity(&ses, &identity.resolve(&plan)?).await?;
    }
    let resolver = Resolver::new(template, params, physical)?.with_region(region);
    Ok(Provisioned { resolver })
}

/// Secret parameters are SSM parameter names when deployed; their Default is a name, not a
/// secret, so a local run without an override gets an unusable value.
fn warn_about_ssm_defaults(template: &Template, params: &HashMap<String, String>) {
    for (name, spec) in template.parameters() {
        if spec.is_ssm() && !params.contains_key(name) {
            tracing::warn!(
                parameter = %name,
                "SSM parameter not overridden; functions get the parameter name as its value (pass --param {name}=VALUE)"
            );
        }
    }
}

fn name_of(physical: &BTreeMap<String, Physical>, logical_id: &str) -> String {
    match physical.get(logical_id) {
        Some(
            Physical::Table { name }
            | Physical::Bucket { name }
            | Physical::Queue { name, .. }
            | Physical::Other { name },
        ) => name.clone(),
        // `physical_resources` covers every resource, so this is unreachable in practice.
        _ => logical_id.to_owned(),
    }
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    table: &TableSpec,
    name: &str,
) -> Result<(), ProvisionError> {
    let build_error = |e| ProvisionError::create("table", name, e);
    let attributes = table
        .attributes
        .iter()
        .map(|a| {
            ddb::AttributeDefinition::builder()
                .attribute_name(&a.name)
                .attribute_type(ddb::ScalarAttributeType::from(a.attribute_type.as_str()))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(build_error)?;
    let indexes = table
        .global_secondary_indexes
        .iter()
        .map(|g| {
            ddb::GlobalSecondaryIndex::builder()
                .index_name(&g.name)
                .set_key_schema(Some(key_schema(&g.key)?))
                .projection(projection(&g.projection))
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(build_error)?;
    let result = client
        .create_table()
        .table_name(name)
        .billing_mode(ddb::BillingMode::PayPerRequest)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(key_schema(&table.key).map_err(build_error)?))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .send()
        .await;
    match result {
        Ok(_) => tracing::info!(table = name, "created table"),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            tracing::debug!(table = name, "table already exists");
        }
        Err(e) => return Err(ProvisionError::create("table", name, e)),
    }
    match &table.ttl_attribute {
        Some(attribute) => enable_ttl(client, name, attribute).await,
        None => Ok(()),
    }
}

fn key_schema(
    key: &crate::template::KeySchema,
) -> Result<Vec<ddb::KeySchemaElement>, aws_sdk_dynamodb::error::BuildError> {
    let hash = ddb::KeySchemaElement::builder()
        .attribute_name(&key.hash)
        .key_type(ddb::KeyType::Hash)
        .build()?;
    let mut elements = vec![hash];
    if let Some(range) = &key.range {
        elements.push(
            ddb::KeySchemaElement::builder()
                .attribute_name(range)
                .key_type(ddb::KeyType::Range)
                .build()?,
        );
    }
    Ok(elements)
}

fn projection(projection: &crate::template::Projection) -> ddb::Projection {
    use crate::template::Projection as P;
    let builder = ddb::Projection::builder();
    match projection {
        P::All => builder.projection_type(ddb::ProjectionType::All),
        P::KeysOnly => builder.projection_type(ddb::ProjectionType::KeysOnly),
        P::Include(attributes) => builder
            .projection_type(ddb::ProjectionType::Include)
            .set_non_key_attributes(Some(attributes.clone())),
    }
    .build()
}

/// UpdateTimeToLive fails when TTL is already enabled, so a re-run checks first.
async fn enable_ttl(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    attribute: &str,
) -> Result<(), ProvisionError> {
    let current = client
        .describe_time_to_live()
        .table_name(table)
        .send()
        .await
        .map_err(|e| ProvisionError::create("table TTL for", table, e))?;
    let description = current.time_to_live_description();
    let enabled = description.and_then(|d| d.time_to_live_status())
        == Some(&ddb::TimeToLiveStatus::Enabled)
        && description.and_then(|d| d.attribute_name()) == Some(attribute);
    if enabled {
        return Ok(());
    }
    let specification = ddb::TimeToLiveSpecification::builder()
        .attribute_name(attribute)
        .enabled(true)
        .build()
        .map_err(|e| ProvisionError::create("table TTL for", table, e))?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(specification)
        .send()
        .await
        .map_err(|e| ProvisionError::create("table TTL for", table, e))?;
    tracing::info!(table, attribute, "enabled TTL");
    Ok(())
}

async fn create_bucket(
    client: &aws_sdk_s3::Client,
    name: &str,
    region: &str,
) -> Result<(), ProvisionError> {
    use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
    let mut request = client.create_bucket().bucket(name);
    // us-east-1 is the one region that rejects an explicit location constraint.
    if region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => tracing::info!(bucket = name, "created bucket"),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
        {
            tracing::debug!(bucket = name, "bucket already exists");
        }
        Err(e) => return Err(ProvisionError::create("bucket", name, e)),
    }
    Ok(())
}

/// Applies `CorsConfiguration` (origins resolved, e.g. `!Ref AppOrigin`), so the emulation
/// answers browsers by the bucket's own rules as S3 does (moto runs with
/// `MOTO_DISABLE_GLOBAL_CORS=1`: a bucket without rules refuses every cross-origin request).
/// A bucket without rules in the template has them removed, so a re-run matches it.
async fn configure_cors(
    client: &aws_sdk_s3::Client,
    bucket: &BucketSpec,
    name: &str,
    resolver: &Resolver,
) -> Result<(), ProvisionError> {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    if bucket.cors_rules.is_empty() {
        client
            .delete_bucket_cors()
            .bucket(name)
            .send()
            .await
            .map_err(|e| ProvisionError::create("CORS rules of bucket", name, e))?;
        return Ok(());
    }
    let mut rules = Vec::new();
    for spec in &bucket.cors_rules {
        let origins = spec
            .allowed_origins
            .iter()
            .map(|origin| resolver.resolve(origin))
            .collect::<Result<Vec<_>, _>>()?;
        let rule = CorsRule::builder()
            .set_id(spec.id.clone())
            .set_allowed_origins(Some(origins))
            .set_allowed_methods(Some(spec.allowed_methods.clone()))
            .set_allowed_headers(Some(spec.allowed_headers.clone()))
            .set_expose_headers(Some(spec.exposed_headers.clone()))
            .set_max_age_seconds(spec.max_age.and_then(|age| i32::try_from(age).ok()))
            .build()
            .map_err(|e| ProvisionError::create("CORS rules of bucket", name, e))?;
        rules.push(rule);
    }
    let configuration = CorsConfiguration::builder()
        .set_cors_rules(Some(rules))
        .build()
        .map_err(|e| ProvisionError::create("CORS rules of bucket", name, e))?;
    client
        .put_bucket_cors()
        .bucket(name)
        .cors_configuration(configuration)
        .send()
        .await
        .map_err(|e| ProvisionError::create("CORS rules of bucket", name, e))?;
    tracing::info!(bucket = name, "configured CORS");
    Ok(())
}

/// Applies `NotificationConfiguration.QueueConfigurations`: the emulation then sends S3 events
/// into the queues, starting, as AWS does, with an `s3:TestEvent` message each time a
/// configuration is set (so a restart of `serve` sends another one).
async fn configure_notifications(
    client: &aws_sdk_s3::Client,
    bucket: &BucketSpec,
    name: &str,
    resolver: &Resolver,
) -> Result<(), ProvisionError> {
    use aws_sdk_s3::types::NotificationConfiguration;
    if bucket.queue_notifications.is_empty() {
        return Ok(());
    }
    let queues = bucket
        .queue_notifications
        .iter()
        .enumerate()
        .map(|(index, spec)| queue_configuration(bucket, index, spec, resolver, name))
        .collect::<Result<Vec<_>, _>>()?;
    let configuration = NotificationConfiguration::builder()
        .set_queue_configurations(Some(queues))
        .build();
    client
        .put_bucket_notification_configuration()
        .bucket(name)
        .notification_configuration(configuration)
        .send()
        .await
        .map_err(|e| ProvisionError::create("notifications of bucket", name, e))?;
    tracing::info!(bucket = name, "configured notifications");
    Ok(())
}

/// One queue configuration. CloudFormation names each with a generated id; ours is the
/// bucket's logical id and the entry's position, which handlers see as `configurationId`.
fn queue_configuration(
    bucket: &BucketSpec,
    index: usize,
    spec: &crate::template::QueueNotificationSpec,
    resolver: &Resolver,
    name: &str,
) -> Result<aws_sdk_s3::types::QueueConfiguration, ProvisionError> {
    use aws_sdk_s3::types::{
        Event, FilterRule, FilterRuleName, NotificationConfigurationFilter, QueueConfiguration,
        S3KeyFilter,
    };
    let rules = spec
        .filter_rules
        .iter()
        .map(|(rule, value)| {
            FilterRule::builder()
                .name(FilterRuleName::from(rule.to_ascii_lowercase().as_str()))
                .value(value)
                .build()
        })
        .collect();
    let mut configuration = QueueConfiguration::builder()
        .id(format!("{}Queue{}", bucket.logical_id, index + 1))
        .queue_arn(resolver.resolve(&spec.queue)?)
        .events(Event::from(spec.event.as_str()));
    if !spec.filter_rules.is_empty() {
        let key = S3KeyFilter::builder().set_filter_rules(Some(rules)).build();
        configuration =
            configuration.filter(NotificationConfigurationFilter::builder().key(key).build());
    }
    configuration
        .build()
        .map_err(|e| ProvisionError::create("notifications of bucket", name, e))
}

/// Dead-letter queues first, so that a redrive policy names an existing queue.
fn queues_in_dependency_order(mut queues: Vec<QueueSpec>) -> Vec<QueueSpec> {
    queues.sort_by_key(|q| q.redrive_policy.is_some());
    queues
}

async fn create_queue(
    client: &aws_sdk_sqs::Client,
    queue: &QueueSpec,
    name: &str,
    resolver: &Resolver,
) -> Result<String, ProvisionError> {
    let attributes = queue_attributes(queue, resolver)?;
    let result = client
        .create_queue()
        .queue_name(name)
        .set_attributes((!attributes.is_empty()).then_some(attributes))
        .send()
        .await;
    match result {
        Ok(output) => {
            tracing::info!(queue = name, "created queue");
            if let Some(url) = output.queue_url() {
                return Ok(url.to_owned());
            }
        }
        // Same name, different attributes (the template changed): keep the existing queue.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_queue_name_exists()) =>
        {
            tracing::warn!(
                queue = name,
                "queue exists with other attributes; keeping it"
            );
        }
        Err(e) => return Err(ProvisionError::create("queue", name, e)),
    }
    let output = client
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| ProvisionError::create("queue", name, e))?;
    Ok(output.queue_url().unwrap_or_default().to_owned())
}

fn queue_attributes(
    queue: &QueueSpec,
    resolver: &Resolver,
) -> Result<HashMap<QueueAttributeName, String>, ProvisionError> {
    let mut attributes = HashMap::new();
    if queue.fifo {
        attributes.insert(QueueAttributeName::FifoQueue, "true".to_owned());
    }
    if queue.content_based_deduplication {
        attributes.insert(
            QueueAttributeName::ContentBasedDeduplication,
            "true".to_owned(),
        );
    }
    if let Some(timeout) = queue.visibility_timeout {
        attributes.insert(QueueAttributeName::VisibilityTimeout, timeout.to_string());
    }
    if let Some(policy) = &queue.redrive_policy {
        let target = resolver.resolve(&policy.dead_letter_target_arn)?;
        let policy = serde_json::json!({
            "deadLetterTargetArn": target,
            "maxReceiveCount": policy.max_receive_count.to_string(),
        });
        attributes.insert(QueueAttributeName::RedrivePolicy, policy.to_string());
    }
    Ok(attributes)
}

async fn create_identity(
    client: &aws_sdk_sesv2::Client,
    identity: &str,
) -> Result<(), ProvisionError> {
    match client
        .create_email_identity()
        .email_identity(identity)
        .send()
        .await
    {
        Ok(_) => tracing::info!(identity, "created email identity"),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_already_exists_exception()) =>
        {
            tracing::debug!(identity, "email identity already exists");
        }
        Err(e) => return Err(ProvisionError::create("email identity", identity, e)),
    }
    Ok(())
}
