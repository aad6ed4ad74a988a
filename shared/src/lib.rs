//! Everything the avatar service's Lambdas share, organised by domain.
//!
//! Each function's `main` builds its configuration and AWS clients once and hands them to a
//! handler defined here, so tests can drive the same handlers against the local AWS emulation.

pub mod analytics;
pub mod auth;
pub mod aws;
pub mod billing;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod email;
pub mod engagement;
pub mod expiring;
pub mod generation;
pub mod generations;
pub mod leads;
pub mod locale;
pub mod logging;
pub mod marketing;
pub mod moderation;
pub mod privacy;
pub mod providers;
pub mod queue;
pub mod rate_limit;
pub mod retention;
pub mod rights;
pub mod store;
pub mod support;
pub mod trials;
pub mod uploads;
pub mod wallets;
pub mod web;
