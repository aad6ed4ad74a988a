//! `openapi.yaml` is the HTTP API's contract, and the web client's types are generated from
//! it: every route of `template.yaml` must be described there, and nothing described there
//! that no function serves. A route added on one side only fails here, named.

use std::collections::BTreeSet;

use local_stack::template::Template;
use serde_norway::Value;

const TEMPLATE: &str = include_str!("../../../template.yaml");
const SPEC: &str = include_str!("../../../openapi.yaml");

/// The operations a path item of OpenAPI 3.1 can hold; its other keys (`parameters`,
/// `summary`, …) are not operations.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// `METHOD /path` of every HttpApi event of every function.
fn template_routes() -> BTreeSet<String> {
    let template = Template::parse(TEMPLATE).expect("template.yaml parses");
    template
        .functions()
        .iter()
        .flat_map(|function| &function.routes)
        .filter(|route| !route.is_default())
        .map(|route| route.route_key())
        .collect()
}

fn spec() -> Value {
    serde_norway::from_str(SPEC).expect("openapi.yaml parses")
}

/// `METHOD /path` of every operation of the spec.
fn spec_routes(spec: &Value) -> BTreeSet<String> {
    let paths = spec["paths"].as_mapping().expect("openapi.yaml has paths");
    let mut routes = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().expect("paths are strings");
        let item = item.as_mapping().expect("a path item is a mapping");
        for method in item.keys().filter_map(Value::as_str) {
            if METHODS.contains(&method) {
                routes.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    routes
}

#[test]
fn every_template_route_is_in_the_spec_and_every_spec_route_in_the_template() {
    let template = template_routes();
    let spec = spec_routes(&spec());
    let undocumented: Vec<&String> = template.difference(&spec).collect();
    let unserved: Vec<&String> = spec.difference(&template).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "template.yaml and openapi.yaml disagree\n  \
         routes of template.yaml missing from openapi.yaml: {undocumented:?}\n  \
         operations of openapi.yaml that no template.yaml route serves: {unserved:?}"
    );
}

/// The app calls the API as `/api/...` on its own origin; the prefix belongs to the server
/// entry, never to the paths (CloudFront and local-stack strip it before routing).
#[test]
fn paths_are_relative_to_the_api_server() {
    let spec = spec();
    assert_eq!(spec["openapi"].as_str(), Some("3.1.0"));
    assert_eq!(spec["servers"][0]["url"].as_str(), Some("/api"));
    let prefixed: Vec<String> = spec_routes(&spec)
        .into_iter()
        .filter(|route| route.contains(" /api/"))
        .collect();
    assert!(
        prefixed.is_empty(),
        "paths with the /api prefix: {prefixed:?}"
    );
}
