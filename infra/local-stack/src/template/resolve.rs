//! Turning template expressions into the strings a local run uses.

use std::collections::{BTreeMap, HashMap};

use thiserror::Error;

use super::{Expr, FunctionSpec, Template};
use crate::{ACCOUNT_ID, REGION};

/// Nested references (`!Ref Identity` → `!Ref EmailFrom` → ...) deeper than this are a cycle.
const MAX_DEPTH: usize = 16;

/// What a resource is called once it exists, by kind; `!Ref` and `!GetAtt` read from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Physical {
    Table {
        name: String,
    },
    Bucket {
        name: String,
    },
    Queue {
        name: String,
        url: String,
    },
    /// `!Ref` of an identity is its (resolved) `EmailIdentity` property.
    EmailIdentity,
    Function {
        name: String,
    },
    HttpApi {
        id: String,
    },
    /// Any other resource type: `!Ref` gives the name, attributes are unsupported.
    Other {
        name: String,
    },
}

/// Why a template value has no local meaning.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ResolveError {
    #[error("`!Ref {0}` names no parameter, pseudo parameter or resource")]
    UnknownRef(String),
    #[error("parameter {0} has no Default; pass a value with --param {0}=VALUE")]
    MissingParameter(String),
    #[error("`!GetAtt {resource}.{attribute}` is not supported locally")]
    UnknownAttribute { resource: String, attribute: String },
    #[error("`!Sub {0:?}` has a `${{` without its closing `}}`")]
    UnclosedSub(String),
    #[error("{0} cannot be resolved locally")]
    Unsupported(String),
    #[error("references nest deeper than {MAX_DEPTH} levels (a cycle?) at {0}")]
    TooDeep(String),
    #[error("parameter override {0} is not declared in the template (declared: {1})")]
    UnknownOverride(String, String),
    #[error("parameter {name}: {value:?} is not one of its AllowedValues {allowed:?}")]
    NotAllowed {
        name: String,
        value: String,
        allowed: Vec<String>,
    },
}

/// A function's environment variable that cannot be resolved.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("function {function}: environment variable {variable}: {source}")]
pub struct EnvError {
    pub function: String,
    pub variable: String,
    #[source]
    pub source: ResolveError,
}

/// The context for resolving expressions: parameter values and the physical resources.
#[derive(Debug, Clone)]
pub struct Resolver {
    parameters: BTreeMap<String, Option<String>>,
    physical: BTreeMap<String, Physical>,
    identities: BTreeMap<String, Expr>,
    region: String,
    stack_name: String,
}

impl Resolver {
    /// Parameter values are the overrides, else each parameter's Default.
    pub fn new(
        template: &Template,
        overrides: &HashMap<String, String>,
        physical: BTreeMap<String, Physical>,
    ) -> Result<Self, ResolveError> {
        let declared = template.parameters();
        if let Some(unknown) = overrides.keys().find(|k| !declared.contains_key(*k)) {
            let names: Vec<&str> = declared.keys().map(String::as_str).collect();
            return Err(ResolveError::UnknownOverride(
                unknown.clone(),
                names.join(", "),
            ));
        }
        let mut parameters = BTreeMap::new();
        for (name, spec) in declared {
            let value = overrides
                .get(name)
                .cloned()
                .or_else(|| spec.default.clone());
            if let Some(value) = &value {
                spec.check_allowed(name, value)?;
            }
            parameters.insert(name.clone(), value);
        }
        let identities = template
            .email_identities()
            .into_iter()
            .map(|i| (i.logical_id, i.identity))
            .collect();
        Ok(Resolver {
            parameters,
            physical,
            identities,
            region: REGION.to_owned(),
            stack_name: "anumi-local".to_owned(),
        })
    }

    /// Overrides `AWS::Region` (and the region inside ARNs).
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = region.into();
        self
    }

    /// Overrides `AWS::StackName`.
    pub fn with_stack_name(mut self, stack_name: impl Into<String>) -> Self {
        self.stack_name = stack_name.into();
        self
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// The physical resource behind a logical id.
    pub fn physical(&self, logical_id: &str) -> Option<&Physical> {
        self.physical.get(logical_id)
    }

    /// All physical resources by logical id.
    pub fn physical_resources(&self) -> &BTreeMap<String, Physical> {
        &self.physical
    }

    /// Resolves an expression to its local string value.
    pub fn resolve(&self, expr: &Expr) -> Result<String, ResolveError> {
        self.resolve_at(expr, 0)
    }

    /// A function's environment with every value resolved.
    pub fn function_environment(
        &self,
        function: &FunctionSpec,
    ) -> Result<BTreeMap<String, String>, EnvError> {
        function
            .environment
            .iter()
            .map(|(name, expr)| {
                let value = self.resolve(expr).map_err(|source| EnvError {
                    function: function.logical_id.clone(),
                    variable: name.clone(),
                    source,
                })?;
                Ok((name.clone(), value))
            })
            .collect()
    }

    fn resolve_at(&self, expr: &Expr, depth: usize) -> Result<String, ResolveError> {
        if depth > MAX_DEPTH {
            return Err(ResolveError::TooDeep(format!("{expr:?}")));
        }
        match expr {
            Expr::Literal(s) => Ok(s.clone()),
            Expr::Ref(name) => self.reference(name, depth),
            Expr::GetAtt {
                resource,
                attribute,
            } => self.attribute(resource, attribute),
            Expr::Sub {
                template,
                variables,
            } => self.substitute(template, variables, depth),
            Expr::Join { delimiter, parts } => {
                let parts = parts
                    .iter()
                    .map(|p| self.resolve_at(p, depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(parts.join(delimiter))
            }
            Expr::Unsupported(what) => Err(ResolveError::Unsupported(what.clone())),
        }
    }

    fn reference(&self, name: &str, depth: usize) -> Result<String, ResolveError> {
        if let Some(value) = self.pseudo(name) {
            return Ok(value);
        }
        if let Some(value) = self.parameters.get(name) {
            return value
                .clone()
                .ok_or_else(|| ResolveError::MissingParameter(name.to_owned()));
        }
        match self.physical.get(name) {
            Some(Physical::EmailIdentity) => {
                let identity = self.identities.get(name);
                let identity = identity.ok_or_else(|| ResolveError::UnknownRef(name.to_owned()))?;
                self.resolve_at(identity, depth + 1)
            }
            Some(physical) => Ok(physical.reference()),
            None => Err(ResolveError::UnknownRef(name.to_owned())),
        }
    }

    fn pseudo(&self, name: &str) -> Option<String> {
        let value = match name {
            "AWS::Region" => &self.region,
            "AWS::AccountId" => ACCOUNT_ID,
            "AWS::Partition" => "aws",
            "AWS::URLSuffix" => "amazonaws.com",
            "AWS::StackName" => &self.stack_name,
            "AWS::StackId" => {
                return Some(format!(
                    "arn:aws:cloudformation:{}:{ACCOUNT_ID}:stack/{}/local",
                    self.region, self.stack_name
                ));
            }
            _ => return None,
        };
        Some(value.to_owned())
    }

    fn attribute(&self, resource: &str, attribute: &str) -> Result<String, ResolveError> {
        let unknown = || ResolveError::UnknownAttribute {
            resource: resource.to_owned(),
            attribute: attribute.to_owned(),
        };
        let physical = self.physical.get(resource).ok_or_else(unknown)?;
        physical
            .attribute(attribute, &self.region)
            .ok_or_else(unknown)
    }

    /// `${Name}` is a variable, parameter or resource, `${Res.Attr}` an attribute, and `${!x}`
    /// the literal text `${x}`.
    fn substitute(
        &self,
        template: &str,
        variables: &BTreeMap<String, Expr>,
        depth: usize,
    ) -> Result<String, ResolveError> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| ResolveError::UnclosedSub(template.to_owned()))?;
            let name = after[..end].trim();
            out.push_str(&self.sub_variable(name, variables, depth)?);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn sub_variable(
        &self,
        name: &str,
        variables: &BTreeMap<String, Expr>,
        depth: usize,
    ) -> Result<String, ResolveError> {
        if let Some(literal) = name.strip_prefix('!') {
            return Ok(format!("${{{literal}}}"));
        }
        if let Some(expr) = variables.get(name) {
            return self.resolve_at(expr, depth + 1);
        }
        match name.split_once('.') {
            Some((resource, attribute)) if !name.starts_with("AWS::") => {
                self.attribute(resource, attribute)
            }
            _ => self.reference(name, depth),
        }
    }
}

impl Physical {
    /// What `!Ref` returns, as CloudFormation documents for each type.
    fn reference(&self) -> String {
        match self {
            Physical::Table { name }
            | Physical::Bucket { name }
            | Physical::Function { name }
            | Physical::Other { name } => name.clone(),
            Physical::Queue { url, .. } => url.clone(),
            Physical::HttpApi { id } => id.clone(),
            // Resolved through the identity's property instead; see `Resolver::reference`.
            Physical::EmailIdentity => String::new(),
        }
    }

    /// The `!GetAtt` attributes code commonly needs; ARNs follow the real formats.
    fn attribute(&self, attribute: &str, region: &str) -> Option<String> {
        let value = match (self, attribute) {
            (Physical::Table { name }, "Arn") => {
                format!("arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}")
            }
            (Physical::Table { name }, "StreamArn") => format!(
                "arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{name}/stream/1970-01-01T00:00:00.000"
            ),
            (Physical::Bucket { name }, "Arn") => format!("arn:aws:s3:::{name}"),
            (Physical::Bucket { name }, "DomainName") => format!("{name}.s3.amazonaws.com"),
            (Physical::Bucket { name }, "RegionalDomainName") => {
                format!("{name}.s3.{region}.amazonaws.com")
            }
            (Physical::Queue { name, .. }, "Arn") => {
                format!("arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}")
            }
            (Physical::Queue { name, .. }, "QueueName") => name.clone(),
            (Physical::Queue { url, .. }, "QueueUrl") => url.clone(),
            (Physical::Function { name }, "Arn") => {
                format!("arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}")
            }
            (Physical::HttpApi { id }, "ApiEndpoint") => {
                format!("https://{id}.execute-api.{region}.amazonaws.com")
            }
            _ => return None,
        };
        Some(value)
    }
}
