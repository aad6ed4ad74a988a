//! Runs the service locally without Docker.
//!
//! * [`template`] reads `template.yaml`, the one source of truth for resources, functions,
//!   routes and CORS.
//! * [`provision`] creates the template's tables, buckets, queues and email identities in the
//!   AWS emulation (moto) and resolves each function's environment.
//! * [`runtime_api`] runs the real function binaries behind our own Lambda Runtime API.
//! * [`gateway`] serves the template's HTTP API routes with API Gateway payload format 2.0,
//!   and the local-only admin route that runs a schedule on demand.
//! * [`events`] does what Lambda's event source mappings and EventBridge do: SQS pollers
//!   (with S3 notifications brought to AWS's shape) and schedules.
//! * [`local_checkout`] is the labelled stand-in of Polar's hosted checkout
//!   (`PolarServer=local`): it sends the polar-webhook function a signed `order.paid`.
//! * [`mailbox`] reads the emails the emulation "sent" for the local mail viewer
//!   (`/_local/mail`) and announces each new one in the console.
//! * [`site`] serves the built web app (`serve --web-dir`) with CloudFront's security headers.

pub mod events;
pub mod gateway;
pub mod local_checkout;
pub mod mailbox;
pub mod naming;
pub(crate) mod pages;
pub mod provision;
pub mod runtime_api;
pub(crate) mod server;
pub mod site;
pub mod template;

/// The region every local resource lives in; the deployed stack uses the same one.
pub const REGION: &str = "ap-northeast-1";
/// moto's default account id, so ARNs we build match the ones the emulation returns.
pub const ACCOUNT_ID: &str = "123456789012";
