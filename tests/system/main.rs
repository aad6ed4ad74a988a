//! One system-test binary (one link step). Each test provisions its own tables from
//! template.yaml in the local AWS emulation under a fresh prefix, so tests run in parallel.
//! Run through `./infra/test.sh`, which starts and stops the emulation.

mod analytics;
mod bad_input;
mod billing;
mod campaigns;
mod catalog;
mod email_links;
mod erasure;
mod event_sources;
mod export;
mod helpers;
mod leads;
mod limits;
mod local_stack;
mod marketing;
mod pipeline;
mod policy;
mod privacy;
mod retention;
mod rights;
mod sessions;
mod sign_in;
mod sigv4;
mod support;
mod trial;
