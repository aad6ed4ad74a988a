//! A small client for the one Polar API call we make: creating a checkout session
//! (`POST /v1/checkouts/`, organization access token as a Bearer token).
//!
//! Request: `products` (Polar product ids; the first is selected), `customer_email`,
//! `metadata` (copied by Polar onto the resulting order, so `order.paid` carries our wallet
//! id back), `success_url`. Response (201): the checkout, of which we read `id` and `url`.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PolarError {
    /// Polar refused the request (4xx): our configuration (token, product ids) is wrong.
    #[error("Polar refused the checkout: status {status}")]
    Rejected { status: u16 },
    /// Polar failed or could not be reached (5xx, timeout, connection): try again later.
    #[error("Polar is unavailable: {0}")]
    Unavailable(String),
    /// Polar answered 2xx with a body that is not a checkout.
    #[error("Polar answered with an unexpected body")]
    BadResponse,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Checkout {
    pub id: String,
    pub url: String,
}

#[derive(Clone, Debug)]
pub struct PolarClient {
    http: reqwest::Client,
    base_url: String,
    token: SecretString,
}

impl PolarClient {
    pub fn new(base_url: &str, token: SecretString) -> Result<Self, String> {
        let http = crate::providers::https_client_builder()?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(8))
            .build()
            .map_err(|error| error.to_string())?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token,
        })
    }

    pub async fn create_checkout(
        &self,
        product_id: &str,
        customer_email: &str,
        wallet_id: &str,
        success_url: &str,
    ) -> Result<Checkout, PolarError> {
        let response = self
            .http
            .post(format!("{}/v1/checkouts/", self.base_url))
            .bearer_auth(self.token.expose_secret())
            .json(&json!({
                "products": [product_id],
                "customer_email": customer_email,
                "metadata": { "wallet_id": wallet_id },
                "success_url": success_url,
            }))
            .send()
            .await
            .map_err(|error| {
                PolarError::Unavailable(if error.is_timeout() {
                    "timeout".to_owned()
                } else {
                    "connection failed".to_owned()
                })
            })?;
        let status = response.status();
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(PolarError::Unavailable(format!(
                "status {}",
                status.as_u16()
            )));
        }
        if !status.is_success() {
            return Err(PolarError::Rejected {
                status: status.as_u16(),
            });
        }
        response
            .json::<Checkout>()
            .await
            .map_err(|_| PolarError::BadResponse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{body_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn client(server: &MockServer) -> PolarClient {
        PolarClient::new(
            &server.uri(),
            SecretString::from("polar_oat_test".to_owned()),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn creates_a_checkout_with_the_documented_request() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v1/checkouts/"))
            .and(header("authorization", "Bearer polar_oat_test"))
            .and(body_json(json!({
                "products": ["prod_a"],
                "customer_email": "a@example.com",
                "metadata": { "wallet_id": "w-1" },
                "success_url": "https://anumi.app/credits",
            })))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({
                "id": "co_1", "url": "https://sandbox.polar.sh/checkout/co_1",
                "status": "open", "client_secret": "cs", "product_id": "prod_a",
            })))
            .expect(1)
            .mount(&server)
            .await;
        let checkout = client(&server)
            .create_checkout(
                "prod_a",
                "a@example.com",
                "w-1",
                "https://anumi.app/credits",
            )
            .await
            .unwrap();
        assert_eq!(checkout.id, "co_1");
        assert_eq!(checkout.url, "https://sandbox.polar.sh/checkout/co_1");
    }

    #[tokio::test]
    async fn failures_are_told_apart() {
        for (status, expected) in [
            (401, PolarError::Rejected { status: 401 }),
            (422, PolarError::Rejected { status: 422 }),
            (429, PolarError::Unavailable("status 429".into())),
            (503, PolarError::Unavailable("status 503".into())),
        ] {
            let server = MockServer::start().await;
            Mock::given(method("POST"))
                .respond_with(ResponseTemplate::new(status).set_body_json(json!({"detail": "x"})))
                .mount(&server)
                .await;
            let error = client(&server)
                .create_checkout("p", "a@example.com", "w", "https://x")
                .await
                .unwrap_err();
            assert_eq!(error, expected);
        }
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "x"})))
            .mount(&server)
            .await;
        let error = client(&server)
            .create_checkout("p", "a@example.com", "w", "https://x")
            .await
            .unwrap_err();
        assert_eq!(error, PolarError::BadResponse);
    }
}
