use std::io::Read;

use http_body_util::BodyExt;

use super::*;

/// A built app in a fresh directory: index.html, a hashed script, a small icon.
fn site() -> (Site, PathBuf) {
    let root = std::env::temp_dir().join(format!("site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(root.join("assets")).unwrap();
    std::fs::write(root.join("index.html"), "<!doctype html><title>app</title>").unwrap();
    let script = "console.log('anumi');\n".repeat(200);
    std::fs::write(root.join("assets/index-3f9a1c.js"), script).unwrap();
    std::fs::write(root.join("favicon.svg"), "<svg/>").unwrap();
    std::fs::write(root.parent().unwrap().join("secret.txt"), "outside").unwrap();
    (Site::new(&root).unwrap(), root)
}

fn get(site: &Site, path: &str) -> Response<Body> {
    site.respond(&Method::GET, path, &HeaderMap::new())
}

async fn body(response: Response<Body>) -> Vec<u8> {
    response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec()
}

#[tokio::test]
async fn pages_of_the_app_fall_back_to_index_html() {
    let (site, _) = site();
    for path in [
        "/",
        "/index.html",
        "/trial/abc",
        "/generations/g-1",
        "/sign-in",
    ] {
        let response = get(&site, path);
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        assert_eq!(response.headers()["cache-control"], "no-cache", "{path}");
        assert!(
            String::from_utf8(body(response).await)
                .unwrap()
                .contains("<title>app")
        );
    }
}

#[tokio::test]
async fn missing_files_are_404_not_the_app() {
    let (site, _) = site();
    for path in ["/assets/index-000000.js", "/favicon.ico", "/x/y.css"] {
        let response = get(&site, path);
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/plain; charset=utf-8"
        );
    }
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_typed() {
    let (site, _) = site();
    let script = get(&site, "/assets/index-3f9a1c.js");
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        script.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let icon = get(&site, "/favicon.svg");
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    assert_eq!(icon.headers()["cache-control"], "no-cache");
}

#[tokio::test]
async fn text_is_gzipped_when_the_browser_accepts_it() {
    let (site, root) = site();
    let mut accepts = HeaderMap::new();
    accepts.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("gzip, deflate, br"),
    );
    let response = site.respond(&Method::GET, "/assets/index-3f9a1c.js", &accepts);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["vary"], "Accept-Encoding");
    let compressed = body(response).await;
    let mut plain = String::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_string(&mut plain)
        .unwrap();
    let original = std::fs::read_to_string(root.join("assets/index-3f9a1c.js")).unwrap();
    assert_eq!(plain, original);
    assert!(compressed.len() < original.len() / 4);
    // Small files and refusals go as they are.
    let small = site.respond(&Method::GET, "/favicon.svg", &accepts);
    assert!(small.headers().get("content-encoding").is_none());
    let mut refuses = HeaderMap::new();
    refuses.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("gzip;q=0"),
    );
    let plain = site.respond(&Method::GET, "/assets/index-3f9a1c.js", &refuses);
    assert!(plain.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn paths_never_leave_the_root() {
    let (site, _) = site();
    for path in [
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets%2f..%2f..%2fsecret.txt",
        "/a%5c..%5csecret.txt",
        "/%zz.js",
    ] {
        let response = get(&site, path);
        assert_eq!(response.status(), 404, "{path}");
        assert!(!String::from_utf8_lossy(&body(response).await).contains("outside"));
    }
}

#[tokio::test]
async fn revalidation_and_methods() {
    let (site, _) = site();
    let first = get(&site, "/");
    let etag = first.headers()["etag"].clone();
    let mut again = HeaderMap::new();
    again.insert(header::IF_NONE_MATCH, etag);
    let second = site.respond(&Method::GET, "/", &again);
    assert_eq!(second.status(), 304);
    assert!(body(second).await.is_empty());
    let head = site.respond(&Method::HEAD, "/", &HeaderMap::new());
    assert_eq!(head.status(), 200);
    assert!(body(head).await.is_empty());
    let post = site.respond(&Method::POST, "/", &HeaderMap::new());
    assert_eq!(post.status(), 405);
    assert_eq!(post.headers()["allow"], "GET, HEAD");
}

#[test]
fn a_directory_without_index_html_is_refused() {
    let root = std::env::temp_dir().join(format!("site-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&root).unwrap();
    assert!(matches!(Site::new(&root), Err(SiteError::NoIndex(_))));
    assert!(matches!(
        Site::new(&root.join("missing")),
        Err(SiteError::Root { .. })
    ));
}
