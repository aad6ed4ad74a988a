//! The local stack as a person uses it: the real `otp` binary behind the Lambda Runtime API
//! emulator, the HTTP API on a local port, sign-in with the code from the emulated mailbox.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::{emulation_endpoint, latest_code, local_secrets, repo_root};

fn bin_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("ANUMI_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map_or_else(|_| repo_root().join("target"), PathBuf::from);
    target.join("debug")
}

struct Stack {
    _child: Child,
    base: String,
}

async fn start_stack(prefix: &str) -> Stack {
    let bin_dir = bin_dir();
    let binary = bin_dir.join("local-stack");
    assert!(
        binary.exists() && bin_dir.join("otp").exists(),
        "build the binaries first (cargo build --bins); looked in {}",
        bin_dir.display()
    );
    let port = free_port();
    let mut command = Command::new(binary);
    command
        .arg("serve")
        .args([
            "--template",
            repo_root().join("template.yaml").to_str().unwrap(),
        ])
        .args(["--endpoint", &emulation_endpoint()])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--bin-dir", bin_dir.to_str().unwrap()])
        .args(["--prefix", prefix])
        .args(["--param", "AppOrigin=http://localhost:5173"]);
    let names = [
        ("SESSION_SECRET", "SessionSecret"),
        ("IP_HASH_SALT", "IpHashSalt"),
        ("OTP_HASH_KEY", "OtpHashKey"),
    ];
    for (env_name, value) in local_secrets() {
        let param = names.iter().find(|(e, _)| *e == env_name).unwrap().1;
        command.args(["--param", &format!("{param}={value}")]);
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("local-stack starts");
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..300 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Stack {
                _child: child,
                base,
            };
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("local-stack did not listen on {base} within 30 s");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_over_http_through_the_local_stack() {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let stack = start_stack(&format!("ls{}-", &id[..10])).await;
    let client = reqwest::Client::new();
    let email = format!("curl@{}.example.com", &id[10..22]);

    let started = client
        .post(format!("{}/auth/otp/start", stack.base))
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap();
    assert_eq!(started.status(), 202);
    let code = latest_code(&email).await;

    let verified = client
        .post(format!("{}/auth/otp/verify", stack.base))
        .json(&json!({ "email": email, "code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), 200);
    let session = verified
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("session="))
        .expect("the gateway passes the session cookie through");
    assert!(session.contains("HttpOnly"));
    let pair = session.split(';').next().unwrap().to_owned();

    let me: Value = client
        .get(format!("{}/me", stack.base))
        .header("cookie", &pair)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["email"], json!(email));

    let unknown = client
        .get(format!("{}/nope", stack.base))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let preflight = client
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/auth/otp/start", stack.base),
        )
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );
    assert_eq!(
        preflight.headers()["access-control-allow-credentials"],
        "true"
    );
}
