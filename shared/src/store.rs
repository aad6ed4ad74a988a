//! Small helpers shared by the DynamoDB-backed stores of each data class.

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;

pub type Item = HashMap<String, AttributeValue>;

/// A storage failure. Its message holds the SDK's error code and message, never item
/// contents, so it is safe to log.
#[derive(Debug, thiserror::Error)]
#[error("{operation} on {table} failed: {detail}")]
pub struct StoreError {
    pub operation: &'static str,
    pub table: String,
    pub detail: String,
}

impl StoreError {
    pub fn new(operation: &'static str, table: &str, detail: impl Into<String>) -> Self {
        Self {
            operation,
            table: table.to_owned(),
            detail: detail.into(),
        }
    }

    pub fn from_sdk<E, R>(operation: &'static str, table: &str, error: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        let detail = match error.as_service_error() {
            Some(service) => format!(
                "{}: {}",
                service.code().unwrap_or("unknown"),
                service.message().unwrap_or_default()
            ),
            None => aws_smithy_types::error::display::DisplayErrorContext(error).to_string(),
        };
        Self::new(operation, table, detail)
    }
}

/// True when a conditional write lost: the condition is how we make writes happen once.
pub fn is_condition_failed<E, R>(error: &SdkError<E, R>) -> bool
where
    E: ProvideErrorMetadata,
{
    error.as_service_error().and_then(|e| e.code()) == Some("ConditionalCheckFailedException")
}

pub fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn n(value: i64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)?.as_s().ok().map(String::as_str)
}

pub fn get_n(item: &Item, name: &str) -> Option<i64> {
    item.get(name)?.as_n().ok()?.parse().ok()
}

/// Reads a required attribute, reporting a malformed item as a store error.
pub fn require<T>(value: Option<T>, table: &str, attribute: &str) -> Result<T, StoreError> {
    value.ok_or_else(|| {
        StoreError::new(
            "read",
            table,
            format!("item lacks a valid {attribute} attribute"),
        )
    })
}

/// Every item `query` matches, page after page (DynamoDB answers at most 1 MB per call).
pub async fn query_all(
    query: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    table: &str,
) -> Result<Vec<Item>, StoreError> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let output = query
            .clone()
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("Query", table, &error))?;
        items.extend(output.items.unwrap_or_default());
        match output.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_typed_attributes() {
        let item: Item = [("a".to_owned(), s("x")), ("b".to_owned(), n(42))].into();
        assert_eq!(get_s(&item, "a"), Some("x"));
        assert_eq!(get_n(&item, "b"), Some(42));
        assert_eq!(get_n(&item, "a"), None);
        assert!(require(get_s(&item, "missing"), "t", "missing").is_err());
    }
}
