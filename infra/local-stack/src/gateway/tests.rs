use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Mutex;

use serde_json::json;

use super::*;
use crate::template::HttpRoute;

const PEER: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7));

fn parts(request: http::request::Builder) -> http::request::Parts {
    request.body(()).expect("request").into_parts().0
}

fn route_match() -> RouteMatch<'static> {
    RouteMatch {
        route_key: "POST /auth/otp/start",
        function: "OtpFunction",
        path_parameters: BTreeMap::new(),
    }
}

fn event_for(request: http::request::Builder, body: &[u8]) -> Value {
    let context = ApiContext::default();
    build_event(
        &parts(request),
        body,
        PEER,
        &route_match(),
        &context,
        SystemTime::UNIX_EPOCH,
    )
}

#[test]
fn event_has_the_format_2_shape() {
    let request = Request::post("/auth/otp/start?lang=ja&x=a%20b&x=c")
        .header("Host", "127.0.0.1:3000")
        .header("Content-Type", "application/json")
        .header("User-Agent", "curl/8")
        .header("X-Custom", "one")
        .header("x-custom", "two");
    let event = event_for(request, br#"{"email":"a@b.c"}"#);
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "POST /auth/otp/start");
    assert_eq!(event["rawPath"], "/auth/otp/start");
    assert_eq!(event["rawQueryString"], "lang=ja&x=a%20b&x=c");
    assert_eq!(
        event["queryStringParameters"],
        json!({"lang": "ja", "x": "a b,c"})
    );
    assert_eq!(event["headers"]["x-custom"], "one,two");
    assert_eq!(event["headers"]["content-type"], "application/json");
    assert_eq!(event["headers"]["x-forwarded-for"], "203.0.113.7");
    assert_eq!(event["body"], r#"{"email":"a@b.c"}"#);
    assert_eq!(event["isBase64Encoded"], false);
    assert!(event.get("cookies").is_none());
    assert!(event.get("pathParameters").is_none());
    let context = &event["requestContext"];
    assert_eq!(context["accountId"], "123456789012");
    assert_eq!(context["stage"], "$default");
    assert_eq!(context["routeKey"], "POST /auth/otp/start");
    assert_eq!(context["domainName"], "127.0.0.1:3000");
    assert_eq!(context["time"], "01/Jan/1970:00:00:00 +0000");
    assert_eq!(context["timeEpoch"], 0);
    assert_eq!(
        context["http"],
        json!({"method": "POST", "path": "/auth/otp/start", "protocol": "HTTP/1.1",
               "sourceIp": "203.0.113.7", "userAgent": "curl/8"})
    );
    assert_eq!(context["requestId"].as_str().map(str::len), Some(16));
}

/// API Gateway sets `Host` itself: a client's hostile value never reaches a function (where
/// `lambda_http` would rebuild the URI from it, and panic on `a b`) nor changes routing.
#[test]
fn the_host_header_is_the_apis_own_whatever_the_client_sends() {
    for hostile in ["a b", "[::1", "@", "evil.test/admin?x=", "127.0.0.1:3000"] {
        let event = event_for(
            Request::get("/me")
                .header("Host", hostile)
                .header("X-Other", "kept"),
            b"",
        );
        assert_eq!(event["headers"]["host"], "127.0.0.1:3000", "{hostile}");
        assert_eq!(event["headers"]["x-other"], "kept");
        assert_eq!(event["requestContext"]["domainName"], "127.0.0.1:3000");
        assert_eq!(event["requestContext"]["domainPrefix"], "127");
        assert_eq!(event["rawPath"], "/me");
    }
}

#[test]
fn cookies_are_split_and_removed_from_headers() {
    let request = Request::get("/me")
        .header("Cookie", "session=abc; theme=dark")
        .header("Cookie", "lang=ja");
    let event = event_for(request, b"");
    assert_eq!(
        event["cookies"],
        json!(["session=abc", "theme=dark", "lang=ja"])
    );
    assert!(event["headers"].get("cookie").is_none());
    assert!(event.get("body").is_none());
    assert!(event.get("queryStringParameters").is_none());
}

#[test]
fn binary_or_untyped_bodies_are_base64() {
    let png = event_for(
        Request::post("/x").header("content-type", "image/png"),
        b"\x89PNG",
    );
    assert_eq!(
        (png["body"].as_str(), png["isBase64Encoded"].as_bool()),
        (Some("iVBORw=="), Some(true))
    );
    let latin1 = event_for(
        Request::post("/x").header("content-type", "text/plain"),
        b"caf\xe9",
    );
    assert_eq!(latin1["isBase64Encoded"], true);
    let untyped = event_for(Request::post("/x"), b"hello");
    assert_eq!(untyped["isBase64Encoded"], true);
    let form = event_for(
        Request::post("/x").header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
        b"a=1",
    );
    assert_eq!(
        (form["body"].as_str(), form["isBase64Encoded"].as_bool()),
        (Some("a=1"), Some(false))
    );
    assert!(event::is_text("application/problem+json"));
    assert!(!event::is_text("application/octet-stream"));
}

#[test]
fn time_is_in_common_log_format() {
    assert_eq!(event::clf_time(1_583_348_638), "04/Mar/2020:19:03:58 +0000");
    assert_eq!(event::clf_time(951_782_400), "29/Feb/2000:00:00:00 +0000");
}

#[test]
fn cookies_become_set_cookie_headers() {
    let response = map_response(json!({
        "statusCode": 201,
        "headers": {"content-type": "application/json", "x-n": 5},
        "multiValueHeaders": {"x-multi": ["a", "b"], "content-type": ["application/json"]},
        "cookies": ["session=abc; HttpOnly; Secure", "theme=dark"],
        "body": "{\"ok\":true}",
        "isBase64Encoded": false
    }))
    .expect("valid");
    assert_eq!(response.status(), StatusCode::CREATED);
    let headers = response.headers();
    let cookies: Vec<_> = headers.get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["session=abc; HttpOnly; Secure", "theme=dark"]);
    assert_eq!(headers.get_all("x-multi").iter().count(), 2);
    assert_eq!(headers.get_all("content-type").iter().count(), 1);
    assert_eq!(headers["x-n"], "5");
}

#[tokio::test]
async fn base64_bodies_are_decoded() {
    let response =
        map_response(json!({"statusCode": 200, "body": "aGk=", "isBase64Encoded": true}))
            .expect("valid");
    assert_eq!(body_text(response).await, "hi");
}

#[tokio::test]
async fn json_without_status_code_is_a_200_json_body() {
    let response = map_response(json!({"hello": "world"})).expect("valid");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(body_text(response).await, r#"{"hello":"world"}"#);
}

#[test]
fn malformed_responses_are_rejected() {
    for bad in [
        json!({"statusCode": "200"}),
        json!({"statusCode": 99}),
        json!({"statusCode": 200, "body": {"a": 1}}),
        json!({"statusCode": 200, "headers": ["x"]}),
        json!({"statusCode": 200, "cookies": "a=b"}),
        json!({"statusCode": 200, "body": "%%%", "isBase64Encoded": true}),
        json!({"statusCode": 200, "headers": {"bad name": "x"}}),
    ] {
        assert!(map_response(bad.clone()).is_err(), "{bad}");
    }
}

/// Records the events it gets and answers with a fixed result.
struct Fake {
    answer: Result<Value, InvokeError>,
    events: Mutex<Vec<Value>>,
}

impl Invoke for Fake {
    fn invoke(&self, event: Value) -> InvokeFuture<'_> {
        self.events.lock().expect("lock").push(event);
        let answer = self.answer.clone();
        Box::pin(async move { answer })
    }
}

fn gateway(answer: Result<Value, InvokeError>) -> (Gateway, Arc<Fake>) {
    let fake = Arc::new(Fake {
        answer,
        events: Mutex::new(Vec::new()),
    });
    let routes = [
        HttpRoute {
            event: "Start".into(),
            method: "POST".into(),
            path: "/auth/otp/start".into(),
        },
        HttpRoute {
            event: "Me".into(),
            method: "GET".into(),
            path: "/me".into(),
        },
    ];
    let router = Router::new(routes.iter().map(|r| ("OtpFunction", r)));
    let functions = HashMap::from([("OtpFunction".to_owned(), fake.clone() as Arc<dyn Invoke>)]);
    let cors = Cors {
        allow_origins: vec!["http://localhost:5173".into()],
        allow_credentials: true,
        allow_headers: vec!["content-type".into()],
        allow_methods: vec!["GET".into(), "POST".into(), "OPTIONS".into()],
        expose_headers: vec![],
        max_age: Some(600),
    };
    (
        Gateway::new(router, functions, Some(cors), ApiContext::default()),
        fake,
    )
}

async fn body_text(response: Response<Full<Bytes>>) -> String {
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    String::from_utf8(bytes.to_vec()).expect("utf8")
}

#[tokio::test]
async fn unmatched_routes_are_404_like_api_gateway() {
    let (gateway, fake) = gateway(Ok(json!({"statusCode": 200})));
    let response = gateway
        .handle(Request::get("/nope").body(Bytes::new()).expect("req"), PEER)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_text(response).await, r#"{"message":"Not Found"}"#);
    assert!(fake.events.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn preflight_and_cors_headers_for_allowed_origins() {
    let (gateway, _) = gateway(Ok(json!({
        "statusCode": 200,
        "headers": {"access-control-allow-origin": "*"},
        "cookies": ["s=1"]
    })));
    let preflight = Request::options("/auth/otp/start")
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .body(Bytes::new())
        .expect("req");
    let response = gateway.handle(preflight, PEER).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let h = response.headers();
    assert_eq!(h["access-control-allow-origin"], "http://localhost:5173");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-allow-methods"], "GET,POST,OPTIONS");
    assert_eq!(h["access-control-allow-headers"], "content-type");
    assert_eq!(h["access-control-max-age"], "600");

    let post = Request::post("/auth/otp/start")
        .header("origin", "http://localhost:5173")
        .body(Bytes::from_static(b"{}"))
        .expect("req");
    let response = gateway.handle(post, PEER).await;
    assert_eq!(
        response.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert_eq!(response.headers()["set-cookie"], "s=1");

    let foreign = Request::get("/me")
        .header("origin", "https://evil.example")
        .body(Bytes::new())
        .expect("req");
    let response = gateway.handle(foreign, PEER).await;
    assert!(
        response
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn function_errors_are_500_and_bad_responses_502() {
    let failing = Err(InvokeError::Timeout(std::time::Duration::from_secs(10)));
    let (gateway_500, _) = gateway(failing);
    let request = || Request::get("/me").body(Bytes::new()).expect("req");
    let response = gateway_500.handle(request(), PEER).await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body_text(response).await,
        r#"{"message":"Internal Server Error"}"#
    );
    let (gateway_502, fake) = gateway(Ok(json!({"statusCode": "x"})));
    assert_eq!(
        gateway_502.handle(request(), PEER).await.status(),
        StatusCode::BAD_GATEWAY
    );
    assert_eq!(fake.events.lock().expect("lock")[0]["routeKey"], "GET /me");
}

#[tokio::test]
async fn oversized_bodies_are_413_over_http() {
    let (gateway, _) = gateway(Ok(json!({"statusCode": 200})));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(Arc::new(gateway).serve(listener, std::future::pending()));
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST /auth/otp/start HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\n\r\n",
        MAX_BODY_BYTES + 1
    );
    tokio::io::AsyncWriteExt::write_all(&mut stream, head.as_bytes())
        .await
        .expect("write");
    let mut reply = vec![0; 1024];
    let read = tokio::io::AsyncReadExt::read(&mut stream, &mut reply)
        .await
        .expect("read");
    let reply = String::from_utf8_lossy(&reply[..read]);
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply}");
    assert!(
        reply.ends_with(r#"{"message":"Request Entity Too Large"}"#),
        "{reply}"
    );
}

fn with_schedule(gateway: Gateway, fake: &Arc<Fake>) -> Gateway {
    let template = crate::template::Template::parse(
        "Resources:\n  Cron:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        Hourly: { Type: Schedule, Properties: { Schedule: rate(1 hour) } }\n",
    )
    .expect("template");
    let spec = template.function("Cron").expect("Cron");
    let mut triggers = crate::events::Triggers::new("ap-northeast-1");
    triggers.add(
        "Cron",
        fake.clone(),
        crate::events::schedule_targets(&spec, "p-", "ap-northeast-1"),
    );
    gateway.with_triggers(Arc::new(triggers))
}

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn trigger(path: &str) -> Request<Bytes> {
    Request::post(path).body(Bytes::new()).expect("req")
}

#[tokio::test]
async fn loopback_clients_can_run_a_schedule_now() {
    let (gateway, fake) = gateway(Ok(json!({"retention": "done"})));
    let gateway = with_schedule(gateway, &fake);
    let response = gateway
        .handle(trigger("/_local/functions/Cron/invoke-schedule"), LOOPBACK)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(body_text(response).await, r#"{"retention":"done"}"#);
    let event = fake.events.lock().expect("lock")[0].clone();
    assert_eq!(event["detail-type"], "Scheduled Event");
    assert_eq!(
        event["resources"],
        json!(["arn:aws:events:ap-northeast-1:123456789012:rule/p-CronHourly"])
    );

    let unknown = gateway
        .handle(trigger("/_local/functions/Nope/invoke-schedule"), LOOPBACK)
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(body_text(unknown).await.contains("no function Nope"));
    let no_event = gateway
        .handle(
            trigger("/_local/functions/Cron/invoke-schedule?event=Daily"),
            LOOPBACK,
        )
        .await;
    assert_eq!(no_event.status(), StatusCode::NOT_FOUND);
    let get = Request::get("/_local/functions/Cron/invoke-schedule")
        .body(Bytes::new())
        .expect("req");
    assert_eq!(
        gateway.handle(get, LOOPBACK).await.status(),
        StatusCode::METHOD_NOT_ALLOWED
    );
}

#[tokio::test]
async fn admin_routes_do_not_exist_for_other_peers() {
    let (gateway, fake) = gateway(Ok(json!({"statusCode": 200})));
    let gateway = with_schedule(gateway, &fake);
    let response = gateway
        .handle(trigger("/_local/functions/Cron/invoke-schedule"), PEER)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(body_text(response).await, r#"{"message":"Not Found"}"#);
    assert!(fake.events.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn failed_scheduled_invocations_are_502() {
    let (gateway, fake) = gateway(Err(InvokeError::Function {
        error_type: "Boom".into(),
        message: "retention failed".into(),
    }));
    let gateway = with_schedule(gateway, &fake);
    let response = gateway
        .handle(trigger("/_local/functions/Cron/invoke-schedule"), LOOPBACK)
        .await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    assert!(body_text(response).await.contains("retention failed"));
}
