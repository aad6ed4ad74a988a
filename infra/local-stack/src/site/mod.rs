//! The web app's static files (`serve --web-dir web/dist`), served as CloudFront serves them
//! from the site bucket: the right `Content-Type`, `index.html` revalidated on every load,
//! hashed `assets/*` cached for a year, gzip for text, the SPA fallback (a path whose last
//! segment has no extension is a page of the app: `index.html`, 200) and a real 404 for a
//! missing file, so a broken asset link fails loudly instead of loading the app's HTML.

pub mod security;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::UNIX_EPOCH;

use http::header::{self, HeaderMap, HeaderValue};
use http::{Method, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;

use crate::server::Body;

/// Hashed build output: its names change with its content, so it never needs revalidating.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Everything else, `index.html` above all: the browser asks again (cheap with the ETag).
const REVALIDATE: &str = "no-cache";
/// Smaller bodies are not worth compressing.
const GZIP_MIN_BYTES: usize = 1024;

/// Why the site cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("--web-dir {}: {source}", path.display())]
    Root {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("--web-dir {} has no index.html (build the app: npm run build --prefix web)", .0.display())]
    NoIndex(PathBuf),
}

/// The built app in a directory.
#[derive(Debug)]
pub struct Site {
    root: PathBuf,
    /// Compressed bodies by file, valid while the file's version (length, mtime) holds.
    gzipped: Mutex<HashMap<PathBuf, (String, Bytes)>>,
}

/// A file chosen for a request path.
struct Found {
    path: PathBuf,
    /// The SPA fallback or the app's entry page.
    is_index: bool,
}

impl Site {
    /// The app built into `root`, which must hold `index.html`.
    pub fn new(root: &Path) -> Result<Site, SiteError> {
        let root = root.canonicalize().map_err(|source| SiteError::Root {
            path: root.to_owned(),
            source,
        })?;
        if !root.join("index.html").is_file() {
            return Err(SiteError::NoIndex(root));
        }
        Ok(Site {
            root,
            gzipped: Mutex::new(HashMap::new()),
        })
    }

    /// The answer to a request for `path` (the URI's path, still percent-encoded).
    pub fn respond(&self, method: &Method, path: &str, request: &HeaderMap) -> Response<Body> {
        if method != Method::GET && method != Method::HEAD {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let Some(found) = self.find(path) else {
            return text(StatusCode::NOT_FOUND, "Not Found");
        };
        let (bytes, version) = match read(&found.path) {
            Ok(file) => file,
            Err(error) => {
                tracing::warn!(path = %found.path.display(), %error, "cannot read a file of the site");
                return text(StatusCode::NOT_FOUND, "Not Found");
            }
        };
        let etag = format!("\"{version}\"");
        let mut response = if request
            .get(header::IF_NONE_MATCH)
            .is_some_and(|tag| tag.as_bytes() == etag.as_bytes())
        {
            empty(StatusCode::NOT_MODIFIED)
        } else {
            self.body(&found.path, &version, bytes, request)
        };
        let out = response.headers_mut();
        out.insert(header::CONTENT_TYPE, content_type(&found.path));
        out.insert(header::CACHE_CONTROL, cache_control(&self.root, &found));
        if let Ok(tag) = HeaderValue::try_from(etag) {
            out.insert(header::ETAG, tag);
        }
        out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if method == Method::HEAD {
            *response.body_mut() = Full::default();
        }
        response
    }

    /// The file for a request path: the file itself, else `index.html` for a page of the
    /// app (no extension), else nothing. Paths that try to leave the root find nothing.
    fn find(&self, path: &str) -> Option<Found> {
        let decoded = percent_decode(path)?;
        let segments: Vec<&str> = decoded.split('/').filter(|s| !s.is_empty()).collect();
        if segments
            .iter()
            .any(|s| *s == "." || *s == ".." || s.contains(['\\', '\0']))
        {
            return None;
        }
        let index = Found {
            path: self.root.join("index.html"),
            is_index: true,
        };
        if segments.is_empty() {
            return Some(index);
        }
        let candidate = segments
            .iter()
            .fold(self.root.clone(), |path, segment| path.join(segment));
        // Symbolic links out of the root are refused too.
        let inside = candidate
            .canonicalize()
            .ok()
            .filter(|real| real.starts_with(&self.root) && real.is_file());
        if let Some(path) = inside {
            let is_index = path == index.path;
            return Some(Found { path, is_index });
        }
        let last = segments.last().copied().unwrap_or_default();
        (!last.contains('.')).then_some(index)
    }

    fn body(
        &self,
        path: &Path,
        version: &str,
        bytes: Bytes,
        request: &HeaderMap,
    ) -> Response<Body> {
        if bytes.len() < GZIP_MIN_BYTES || !compressible(path) || !accepts_gzip(request) {
            return Response::new(Full::new(bytes));
        }
        let cached = self
            .gzipped
            .lock()
            .ok()
            .and_then(|cache| cache.get(path).cloned())
            .filter(|(cached_version, _)| cached_version == version);
        let compressed = match cached {
            Some((_, compressed)) => compressed,
            None => match gzip(&bytes) {
                Ok(compressed) => {
                    if let Ok(mut cache) = self.gzipped.lock() {
                        cache.insert(path.to_owned(), (version.to_owned(), compressed.clone()));
                    }
                    compressed
                }
                Err(error) => {
                    tracing::warn!(%error, "gzip failed; sending the file as it is");
                    return Response::new(Full::new(bytes));
                }
            },
        };
        let mut response = Response::new(Full::new(compressed));
        response
            .headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response
    }
}

/// The file's bytes and a version that changes when it does (length and mtime).
fn read(path: &Path) -> std::io::Result<(Bytes, String)> {
    let metadata = std::fs::metadata(path)?;
    let modified = metadata
        .modified()
        .ok()
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .unwrap_or_default();
    let version = format!("{:x}-{:x}", metadata.len(), modified.as_nanos());
    Ok((Bytes::from(std::fs::read(path)?), version))
}

fn cache_control(root: &Path, found: &Found) -> HeaderValue {
    let hashed = found
        .path
        .strip_prefix(root)
        .is_ok_and(|relative| relative.starts_with("assets"));
    HeaderValue::from_static(if hashed && !found.is_index {
        IMMUTABLE
    } else {
        REVALIDATE
    })
}

/// By extension, as the site bucket's objects are uploaded with their types.
pub fn content_type(path: &Path) -> HeaderValue {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    HeaderValue::from_static(match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    })
}

/// Text formats gain from gzip; images and fonts are compressed already.
fn compressible(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some(
            "html"
                | "js"
                | "mjs"
                | "css"
                | "json"
                | "map"
                | "svg"
                | "txt"
                | "xml"
                | "wasm"
                | "webmanifest"
        )
    )
}

/// `Accept-Encoding` names gzip (or `*`) without `q=0`.
fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

fn gzip(bytes: &[u8]) -> std::io::Result<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    encoder.write_all(bytes)?;
    Ok(Bytes::from(encoder.finish()?))
}

/// `%XX` decoded; `None` for invalid UTF-8 or a malformed escape.
fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn text(status: StatusCode, message: &'static str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from_static(message.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = status;
    response
}

#[cfg(test)]
mod tests;
