//! The SAM template (`template.yaml`): the one description of the service's resources, shared
//! by the deployment and the local stack.

mod expr;
mod resolve;
mod specs;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_norway::{Mapping, Value};
use thiserror::Error;

pub use expr::Expr;
pub use resolve::{EnvError, Physical, ResolveError, Resolver};
pub use specs::{
    AttributeDefinition, BucketCorsRuleSpec, BucketSpec, Cors, CorsSpec, EmailIdentitySpec,
    FunctionSpec, GsiSpec, HttpRoute, KeySchema, ParameterSpec, Projection, QueueNotificationSpec,
    QueueSpec, RedrivePolicy, ScheduleSpec, SqsEventSpec, TableSpec,
};

use crate::naming;

/// Why a template could not be read.
#[derive(Debug, Error)]
pub enum TemplateError {
    #[error("cannot read template {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("template is not valid YAML: {0}")]
    Yaml(#[from] serde_norway::Error),
    #[error("template: {0}")]
    Shape(String),
    #[error("template resource {resource}: {message}")]
    Resource { resource: String, message: String },
}

/// One entry of `Resources`.
#[derive(Debug, Clone)]
pub struct Resource {
    pub logical_id: String,
    pub kind: String,
    pub properties: Value,
    pub metadata: Value,
}

/// A parsed template with typed views of the parts the local stack uses.
#[derive(Debug, Clone)]
pub struct Template {
    parameters: BTreeMap<String, ParameterSpec>,
    resources: Vec<Resource>,
    globals: Value,
}

impl Template {
    /// Reads and parses the template at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Template, TemplateError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: path.to_owned(),
            source,
        })?;
        Template::parse(&text)
    }

    /// Parses template text and checks every part the typed views read, so that the views
    /// themselves cannot fail.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let root: Value = serde_norway::from_str(text)?;
        let root = root
            .as_mapping()
            .ok_or_else(|| TemplateError::Shape("the document is not a mapping".into()))?;
        let template = Template {
            parameters: specs::parameters(root.get("Parameters"))?,
            resources: resources(root.get("Resources"))?,
            globals: root.get("Globals").cloned().unwrap_or(Value::Null),
        };
        template.validate()?;
        Ok(template)
    }

    fn validate(&self) -> Result<(), TemplateError> {
        for resource in &self.resources {
            match resource.kind.as_str() {
                "AWS::DynamoDB::Table" => specs::table(resource).map(drop)?,
                "AWS::S3::Bucket" => specs::bucket(resource).map(drop)?,
                "AWS::SQS::Queue" => specs::queue(resource).map(drop)?,
                "AWS::SES::EmailIdentity" => specs::email_identity(resource).map(drop)?,
                "AWS::Serverless::Function" => {
                    specs::function(resource, &self.globals).map(drop)?
                }
                "AWS::Serverless::HttpApi" => specs::cors(resource).map(drop)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Declared parameters by name.
    pub fn parameters(&self) -> &BTreeMap<String, ParameterSpec> {
        &self.parameters
    }

    /// All resources in template order.
    pub fn resources(&self) -> &[Resource] {
        &self.resources
    }

    /// `AWS::DynamoDB::Table` resources.
    pub fn tables(&self) -> Vec<TableSpec> {
        self.views("AWS::DynamoDB::Table", specs::table)
    }

    /// `AWS::S3::Bucket` resources.
    pub fn buckets(&self) -> Vec<BucketSpec> {
        self.views("AWS::S3::Bucket", specs::bucket)
    }

    /// `AWS::SQS::Queue` resources.
    pub fn queues(&self) -> Vec<QueueSpec> {
        self.views("AWS::SQS::Queue", specs::queue)
    }

    /// `AWS::SES::EmailIdentity` resources.
    pub fn email_identities(&self) -> Vec<EmailIdentitySpec> {
        self.views("AWS::SES::EmailIdentity", specs::email_identity)
    }

    /// `AWS::Serverless::Function` resources with Globals applied.
    pub fn functions(&self) -> Vec<FunctionSpec> {
        self.views("AWS::Serverless::Function", |r| {
            specs::function(r, &self.globals)
        })
    }

    /// The function with this logical id.
    pub fn function(&self, logical_id: &str) -> Option<FunctionSpec> {
        self.functions()
            .into_iter()
            .find(|f| f.logical_id == logical_id)
    }

    /// The CORS configuration of the (first) `AWS::Serverless::HttpApi`, if it has one.
    pub fn cors(&self) -> Option<CorsSpec> {
        self.of_kind("AWS::Serverless::HttpApi")
            .find_map(|r| specs::cors(r).ok().flatten())
    }

    /// The physical resource each logical id gets with this name prefix, before anything is
    /// created: names are deterministic, and queue URLs use the AWS form until provisioning
    /// replaces them with the emulation's.
    pub fn physical_resources(&self, prefix: &str) -> BTreeMap<String, Physical> {
        let queues = self.queues();
        self.resources
            .iter()
            .map(|r| {
                let id = &r.logical_id;
                let physical = match r.kind.as_str() {
                    "AWS::DynamoDB::Table" => Physical::Table {
                        name: naming::table_name(prefix, id),
                    },
                    "AWS::S3::Bucket" => Physical::Bucket {
                        name: naming::bucket_name(prefix, id),
                    },
                    "AWS::SQS::Queue" => {
                        let fifo = queues.iter().any(|q| &q.logical_id == id && q.fifo);
                        let name = naming::queue_name(prefix, id, fifo);
                        let url = format!(
                            "https://sqs.{}.amazonaws.com/{}/{name}",
                            crate::REGION,
                            crate::ACCOUNT_ID
                        );
                        Physical::Queue { name, url }
                    }
                    "AWS::SES::EmailIdentity" => Physical::EmailIdentity,
                    "AWS::Serverless::Function" => Physical::Function {
                        name: naming::function_name(prefix, id),
                    },
                    "AWS::Serverless::HttpApi" => Physical::HttpApi {
                        id: "local".to_owned(),
                    },
                    _ => Physical::Other {
                        name: format!("{prefix}{id}"),
                    },
                };
                (id.clone(), physical)
            })
            .collect()
    }

    fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.iter().filter(move |r| r.kind == kind)
    }

    /// Builds the typed view of every resource of `kind`. `parse` already ran `build` on each
    /// of them, so a failure here is impossible; skipping keeps the views infallible anyway.
    fn views<T>(
        &self,
        kind: &str,
        build: impl Fn(&Resource) -> Result<T, TemplateError>,
    ) -> Vec<T> {
        self.of_kind(kind).filter_map(|r| build(r).ok()).collect()
    }
}

fn resources(value: Option<&Value>) -> Result<Vec<Resource>, TemplateError> {
    let map = value
        .and_then(Value::as_mapping)
        .ok_or_else(|| TemplateError::Shape("Resources is missing or not a mapping".into()))?;
    map.iter().map(resource).collect()
}

fn resource((key, value): (&Value, &Value)) -> Result<Resource, TemplateError> {
    let logical_id = key
        .as_str()
        .ok_or_else(|| TemplateError::Shape(format!("resource key {key:?} is not a string")))?
        .to_owned();
    let body = value.as_mapping().ok_or_else(|| TemplateError::Resource {
        resource: logical_id.clone(),
        message: "is not a mapping".into(),
    })?;
    let kind = body
        .get("Type")
        .and_then(Value::as_str)
        .ok_or_else(|| TemplateError::Resource {
            resource: logical_id.clone(),
            message: "has no Type".into(),
        })?
        .to_owned();
    let field = |name: &str| {
        body.get(name)
            .cloned()
            .unwrap_or(Value::Mapping(Mapping::new()))
    };
    Ok(Resource {
        logical_id,
        kind,
        properties: field("Properties"),
        metadata: field("Metadata"),
    })
}

#[cfg(test)]
mod tests;
