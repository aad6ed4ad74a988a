//! Matching requests to the template's `HttpApi` routes, with API Gateway's precedence:
//! exact paths before `{param}` segments before `{proxy+}`, a named method before `ANY`, and
//! `$default` last.

use std::collections::BTreeMap;

use crate::template::{FunctionSpec, HttpRoute};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    /// `{name+}`: the rest of the path, at least one segment.
    Greedy(String),
}

#[derive(Debug, Clone)]
struct Route {
    route_key: String,
    function: String,
    method: String,
    /// `None` for `$default`.
    segments: Option<Vec<Segment>>,
}

/// A matched route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a> {
    /// E.g. `POST /auth/otp/start`, as in the event's `routeKey`.
    pub route_key: &'a str,
    /// The logical id of the function behind the route.
    pub function: &'a str,
    pub path_parameters: BTreeMap<String, String>,
}

/// The route table of the HTTP API.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

impl Router {
    /// Routes as `(function logical id, route)` pairs.
    pub fn new<'a>(routes: impl IntoIterator<Item = (&'a str, &'a HttpRoute)>) -> Router {
        let routes = routes
            .into_iter()
            .map(|(function, route)| Route {
                route_key: route.route_key(),
                function: function.to_owned(),
                method: route.method.clone(),
                segments: (!route.is_default()).then(|| parse_path(&route.path)),
            })
            .collect();
        Router { routes }
    }

    /// Every `HttpApi` event of every function.
    pub fn from_functions(functions: &[FunctionSpec]) -> Router {
        Router::new(
            functions
                .iter()
                .flat_map(|f| f.routes.iter().map(move |r| (f.logical_id.as_str(), r))),
        )
    }

    /// The most specific route for `method` and the raw request `path`.
    pub fn find(&self, method: &str, path: &str) -> Option<RouteMatch<'_>> {
        let best = self
            .routes
            .iter()
            .filter(|r| r.method == method || r.method == "ANY")
            .filter_map(|r| {
                let segments = r.segments.as_ref()?;
                let parameters = match_path(segments, path)?;
                Some((specificity(r, segments), r, parameters))
            })
            .max_by_key(|(rank, ..)| *rank);
        if let Some((_, route, path_parameters)) = best {
            return Some(RouteMatch {
                route_key: &route.route_key,
                function: &route.function,
                path_parameters,
            });
        }
        let fallback = self.routes.iter().find(|r| r.segments.is_none())?;
        Some(RouteMatch {
            route_key: &fallback.route_key,
            function: &fallback.function,
            path_parameters: BTreeMap::new(),
        })
    }
}

/// Higher is more specific: no greedy segment, then more literal segments, then fewer
/// parameters, then a named method.
fn specificity(route: &Route, segments: &[Segment]) -> (bool, usize, usize, bool) {
    let greedy = segments.iter().any(|s| matches!(s, Segment::Greedy(_)));
    let literals = segments
        .iter()
        .filter(|s| matches!(s, Segment::Literal(_)))
        .count();
    (
        !greedy,
        literals,
        usize::MAX - segments.len(),
        route.method != "ANY",
    )
}

fn parse_path(path: &str) -> Vec<Segment> {
    split(path)
        .map(|segment| {
            let name = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
            match name {
                Some(name) => match name.strip_suffix('+') {
                    Some(greedy) => Segment::Greedy(greedy.to_owned()),
                    None => Segment::Param(name.to_owned()),
                },
                None => Segment::Literal(segment.to_owned()),
            }
        })
        .collect()
}

fn split(path: &str) -> std::str::Split<'_, char> {
    path.strip_prefix('/').unwrap_or(path).split('/')
}

fn match_path(route: &[Segment], path: &str) -> Option<BTreeMap<String, String>> {
    let parts: Vec<&str> = split(path).collect();
    let mut parameters = BTreeMap::new();
    for (index, segment) in route.iter().enumerate() {
        match segment {
            Segment::Literal(literal) => {
                if parts.get(index) != Some(&literal.as_str()) {
                    return None;
                }
            }
            Segment::Param(name) => {
                let value = parts.get(index).filter(|p| !p.is_empty())?;
                parameters.insert(name.clone(), (*value).to_owned());
            }
            Segment::Greedy(name) => {
                let rest = parts.get(index..).filter(|r| !r.is_empty())?.join("/");
                if rest.is_empty() {
                    return None;
                }
                parameters.insert(name.clone(), rest);
                return Some(parameters);
            }
        }
    }
    (parts.len() == route.len()).then_some(parameters)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: &str, path: &str) -> HttpRoute {
        HttpRoute {
            event: "E".into(),
            method: method.into(),
            path: path.into(),
        }
    }

    fn router(routes: &[(&'static str, HttpRoute)]) -> Router {
        Router::new(routes.iter().map(|(f, r)| (*f, r)))
    }

    #[test]
    fn exact_routes_match_method_and_path() {
        let r = router(&[
            ("Otp", route("POST", "/auth/otp/start")),
            ("Otp", route("GET", "/me")),
        ]);
        let m = r.find("POST", "/auth/otp/start").expect("match");
        assert_eq!((m.route_key, m.function), ("POST /auth/otp/start", "Otp"));
        assert!(r.find("GET", "/auth/otp/start").is_none());
        assert!(r.find("GET", "/me/").is_none());
        assert!(r.find("GET", "/mee").is_none());
        assert!(r.find("GET", "/").is_none());
    }

    #[test]
    fn parameters_greedy_and_precedence() {
        let r = router(&[
            ("Any", route("ANY", "/files/{proxy+}")),
            ("One", route("GET", "/files/{id}")),
            ("Exact", route("GET", "/files/latest")),
            ("Default", route("ANY", "$default")),
        ]);
        assert_eq!(r.find("GET", "/files/latest").expect("m").function, "Exact");
        let one = r.find("GET", "/files/42").expect("m");
        assert_eq!(one.function, "One");
        assert_eq!(one.path_parameters["id"], "42");
        let any = r.find("DELETE", "/files/a/b").expect("m");
        assert_eq!(any.function, "Any");
        assert_eq!(any.path_parameters["proxy"], "a/b");
        let fallback = r.find("GET", "/files").expect("m");
        assert_eq!(
            (fallback.function, fallback.route_key),
            ("Default", "$default")
        );
    }
}
