use std::collections::HashMap;

use super::*;

const REAL_TEMPLATE: &str = include_str!("../../../../template.yaml");

fn real() -> Template {
    Template::parse(REAL_TEMPLATE).expect("template.yaml parses")
}

fn resolver(template: &Template, overrides: &[(&str, &str)]) -> Resolver {
    let overrides: HashMap<String, String> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Resolver::new(
        template,
        &overrides,
        template.physical_resources("anumi-local-"),
    )
    .expect("resolver")
}

fn table<'a>(tables: &'a [TableSpec], id: &str) -> &'a TableSpec {
    tables
        .iter()
        .find(|t| t.logical_id == id)
        .unwrap_or_else(|| panic!("{id} in template.yaml"))
}

#[test]
fn real_template_tables_with_keys_and_ttl() {
    let tables = real().tables();
    let otp = table(&tables, "OtpCodesTable");
    assert_eq!(otp.key.hash, "email_hash");
    assert_eq!(otp.key.range, None);
    assert_eq!(otp.ttl_attribute.as_deref(), Some("ttl"));
    assert_eq!(
        otp.attributes,
        [AttributeDefinition {
            name: "email_hash".into(),
            attribute_type: "S".into()
        }]
    );
    assert_eq!(table(&tables, "WalletsTable").ttl_attribute, None);
    let generations = table(&tables, "GenerationsTable");
    let indexes: Vec<&str> = generations
        .global_secondary_indexes
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    assert_eq!(
        indexes,
        ["by-wallet", "review-queue", "upload-pending", "selfie-due"]
    );
    assert_eq!(
        generations.global_secondary_indexes[0].key.range.as_deref(),
        Some("created_at")
    );
}

#[test]
fn real_template_function_settings_and_routes() {
    let template = real();
    let otp = template.function("OtpFunction").expect("OtpFunction");
    assert_eq!(otp.binary, "otp");
    assert_eq!((otp.memory_size_mb, otp.timeout_secs), (128, 10));
    let keys: Vec<String> = otp.routes.iter().map(HttpRoute::route_key).collect();
    assert_eq!(
        keys,
        [
            "POST /auth/otp/start",
            "POST /auth/otp/verify",
            "POST /auth/logout",
            "POST /auth/logout-all",
            "GET /me",
            "POST /locale"
        ]
    );
    let generate = template
        .function("GenerateFunction")
        .expect("GenerateFunction");
    assert_eq!(generate.binary, "generate");
    assert_eq!(generate.memory_size_mb, 1024);
}

#[test]
fn real_template_environment_resolves() {
    let template = real();
    let otp = template.function("OtpFunction").expect("OtpFunction");
    let resolver = resolver(&template, &[("SessionSecret", "local-secret")]);
    let env = resolver.function_environment(&otp).expect("env");
    assert_eq!(env["APP_ENV"], "dev");
    assert_eq!(env["APP_ORIGIN"], "https://anumi.app");
    assert_eq!(env["RUST_LOG"], "info");
    assert_eq!(env["WALLETS_TABLE"], "anumi-local-WalletsTable");
    assert_eq!(env["OTP_CODES_TABLE"], "anumi-local-OtpCodesTable");
    assert_eq!(env["EMAIL_FROM"], "no-reply@anumi.app");
    assert_eq!(env["SUPPORT_EMAIL"], "support@anumi.app");
    assert_eq!(env["SESSION_SECRET"], "local-secret");
    // Not overridden: the SSM parameter name is all we have.
    assert_eq!(env["IP_HASH_SALT"], "/anumi/dev/ip-hash-salt");
    assert_eq!(env.len(), 12);
}

#[test]
fn real_template_cors_and_identity() {
    let template = real();
    let resolver = resolver(&template, &[("AppOrigin", "http://localhost:5173")]);
    // One origin (CloudFront serves the app and /api): the HTTP API answers no CORS.
    assert!(template.cors().is_none());
    let identities = template.email_identities();
    assert_eq!(
        identities[0].resolve(&resolver).expect("identity"),
        "no-reply@anumi.app"
    );
    assert!(template.parameters()["SessionSecret"].is_ssm());
}

#[test]
fn intrinsics_resolve_like_cloudformation() {
    let template = real();
    let r = resolver(&template, &[]);
    let arn = Expr::GetAtt {
        resource: "WalletsTable".into(),
        attribute: "Arn".into(),
    };
    assert_eq!(
        r.resolve(&arn).expect("arn"),
        "arn:aws:dynamodb:ap-northeast-1:123456789012:table/anumi-local-WalletsTable"
    );
    let sub = Expr::Sub {
        template: "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:x/${Stage}/${!Lit}/${OtpCodesTable.Arn}".into(),
        variables: Default::default(),
    };
    assert_eq!(
        r.resolve(&sub).expect("sub"),
        "arn:aws:ses:ap-northeast-1:123456789012:x/dev/${Lit}/arn:aws:dynamodb:ap-northeast-1:123456789012:table/anumi-local-OtpCodesTable"
    );
    assert_eq!(
        r.resolve(&Expr::Ref("Nope".into())),
        Err(ResolveError::UnknownRef("Nope".into()))
    );
}

#[test]
fn overrides_are_checked() {
    let template = real();
    let physical = template.physical_resources("p-");
    let bad = HashMap::from([("Stage".to_string(), "qa".to_string())]);
    assert!(matches!(
        Resolver::new(&template, &bad, physical.clone()),
        Err(ResolveError::NotAllowed { .. })
    ));
    let unknown = HashMap::from([("Nope".to_string(), "x".to_string())]);
    assert!(matches!(
        Resolver::new(&template, &unknown, physical),
        Err(ResolveError::UnknownOverride(..))
    ));
}

const SMALL: &str = r#"
Globals:
  Function:
    Timeout: 7
    Environment:
      Variables: { A: global, B: global }
Parameters:
  Secret: { Type: String }
Resources:
  Jobs:
    Type: AWS::SQS::Queue
    Properties:
      FifoQueue: true
      VisibilityTimeout: 60
      RedrivePolicy: { deadLetterTargetArn: !GetAtt Dead.Arn, maxReceiveCount: 3 }
  Dead:
    Type: AWS::SQS::Queue
  Uploads:
    Type: AWS::S3::Bucket
  Events:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions:
        - { AttributeName: pk, AttributeType: S }
        - { AttributeName: sk, AttributeType: N }
        - { AttributeName: g, AttributeType: S }
      KeySchema:
        - { AttributeName: pk, KeyType: HASH }
        - { AttributeName: sk, KeyType: RANGE }
      GlobalSecondaryIndexes:
        - IndexName: byG
          KeySchema: [{ AttributeName: g, KeyType: HASH }]
          Projection: { ProjectionType: ALL }
      TimeToLiveSpecification: { AttributeName: exp, Enabled: false }
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 256
      Environment:
        Variables:
          B: own
          QUEUE: !Ref Jobs
          SECRET: !Ref Secret
      Events:
        Any:
          Type: HttpApi
          Properties: { Path: "/files/{proxy+}", Method: any }
        Fallback:
          Type: HttpApi
"#;

#[test]
fn small_template_views() {
    let t = Template::parse(SMALL).expect("parses");
    let queues = t.queues();
    assert!(queues[0].fifo);
    assert_eq!(queues[0].visibility_timeout, Some(60));
    let redrive = queues[0].redrive_policy.as_ref().expect("redrive");
    assert_eq!(redrive.max_receive_count, 3);
    assert_eq!(t.buckets()[0].logical_id, "Uploads");
    let table = &t.tables()[0];
    assert_eq!(table.key.range.as_deref(), Some("sk"));
    assert_eq!(table.global_secondary_indexes[0].key.hash, "g");
    assert_eq!(table.ttl_attribute, None);
    let worker = &t.functions()[0];
    assert_eq!(worker.binary, "worker");
    assert_eq!((worker.memory_size_mb, worker.timeout_secs), (256, 7));
    assert_eq!(worker.routes[0].route_key(), "ANY /files/{proxy+}");
    assert!(worker.routes[1].is_default());
}

#[test]
fn small_template_env_errors_name_the_variable() {
    let t = Template::parse(SMALL).expect("parses");
    let r = Resolver::new(&t, &HashMap::new(), t.physical_resources("p-")).expect("resolver");
    let err = r
        .function_environment(&t.functions()[0])
        .expect_err("Secret has no default");
    let text = err.to_string();
    assert!(
        text.contains("Worker") && text.contains("SECRET") && text.contains("--param Secret"),
        "{text}"
    );

    let r = Resolver::new(
        &t,
        &HashMap::from([("Secret".to_string(), "s".to_string())]),
        t.physical_resources("p-"),
    )
    .expect("resolver");
    let env = r.function_environment(&t.functions()[0]).expect("env");
    assert_eq!(env["A"], "global");
    assert_eq!(env["B"], "own");
    assert_eq!(
        env["QUEUE"],
        "https://sqs.ap-northeast-1.amazonaws.com/123456789012/p-Jobs.fifo"
    );
}
