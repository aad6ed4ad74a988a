//! AWS SDK configuration, loaded once per cold start.
//!
//! `aws-config` honours `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_<SERVICE>`),
//! so the same code talks to AWS when deployed and to the local emulation in development and
//! tests; nothing here special-cases either.
//!
//! Region and credentials come from the environment only: Lambda always sets
//! `AWS_REGION` and the role's `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`,
//! and the local scripts set them too. Skipping the default provider chains (profile files,
//! SSO, web identity, IMDS) keeps their construction out of every cold start.
//!
//! The SDK only ever talks to AWS endpoints, whose certificates all chain to Amazon Trust
//! Services roots, so its TLS client trusts exactly those, compiled in. That also spares
//! every cold start from reading and parsing the system's whole certificate store
//! (measured: most of the SDK's start-up cost; see BENCHMARKS.md).

use aws_config::environment::{
    EnvironmentVariableCredentialsProvider, EnvironmentVariableRegionProvider,
};
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};

const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("../certs/amazon-trust-services.pem");

pub async fn load_sdk_config() -> SdkConfig {
    let trust = TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS);
    let context = TlsContext::builder()
        .with_trust_store(trust)
        .build()
        .expect("a trust store of PEM certificates is a valid TLS context");
    let https = Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .tls_context(context)
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https)
        .region(EnvironmentVariableRegionProvider::new())
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .load()
        .await
}

pub fn dynamodb(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

pub fn sesv2(config: &SdkConfig) -> aws_sdk_sesv2::Client {
    aws_sdk_sesv2::Client::new(config)
}

/// S3 with path-style addressing when an endpoint is configured: the local emulation
/// (`http://127.0.0.1:4566/bucket/key`) has no per-bucket host names.
pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(config.endpoint_url().is_some())
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}

pub fn sqs(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}

/// "Operation: error and its causes", for logs and retry reasons. SDK errors name codes,
/// buckets and keys (pseudonymous ids), never item contents.
pub fn failure(operation: &str, error: impl std::error::Error) -> String {
    format!(
        "{operation}: {}",
        aws_smithy_types::error::display::DisplayErrorContext(error)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn the_embedded_trust_store_holds_the_five_amazon_trust_services_roots() {
        let text = std::str::from_utf8(AMAZON_TRUST_SERVICES_ROOTS).unwrap();
        let blocks: Vec<&str> = text
            .split("-----BEGIN CERTIFICATE-----")
            .skip(1)
            .map(|block| block.split("-----END CERTIFICATE-----").next().unwrap())
            .collect();
        assert_eq!(blocks.len(), 5);
        for block in blocks {
            let base64: String = block.split_whitespace().collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(base64)
                .unwrap();
            assert_eq!(der[0], 0x30, "each certificate is a DER SEQUENCE");
        }
    }
}
