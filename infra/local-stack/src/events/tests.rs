use std::sync::Mutex;

use serde_json::json;

use super::schedule::{ScheduleExpression, ScheduleKind};
use super::*;
use crate::gateway::InvokeFuture;
use crate::template::Expr;

const EVENTS_TEMPLATE: &str = include_str!("../../testdata/events-template.yaml");

fn template() -> Template {
    Template::parse(EVENTS_TEMPLATE).expect("the events template parses")
}

#[test]
fn the_events_template_declares_the_wiring() {
    let template = template();
    let buckets = template.buckets();
    let notifications = &buckets[0].queue_notifications;
    assert_eq!(notifications.len(), 1);
    assert_eq!(notifications[0].event, "s3:ObjectCreated:*");
    assert_eq!(
        notifications[0].queue,
        Expr::GetAtt {
            resource: "SelfieEventsQueue".into(),
            attribute: "Arn".into()
        }
    );
    assert_eq!(
        notifications[0].filter_rules,
        [("prefix".to_owned(), "selfies/".to_owned())]
    );

    let moderate = template
        .function("ModerateFunction")
        .expect("ModerateFunction");
    let sqs = &moderate.sqs_events[0];
    assert_eq!(
        (
            sqs.event.as_str(),
            sqs.batch_size,
            sqs.report_batch_item_failures,
            sqs.enabled
        ),
        ("SelfieEvents", 5, true, true)
    );
    assert!(moderate.schedules.is_empty() && moderate.routes.is_empty());

    let retention = template
        .function("RetentionFunction")
        .expect("RetentionFunction");
    let kinds: Vec<(&str, ScheduleKind)> = retention
        .schedules
        .iter()
        .map(|s| (s.event.as_str(), s.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            ("Hourly", ScheduleKind::Rule),
            ("Nightly", ScheduleKind::Scheduler)
        ]
    );
    assert_eq!(
        retention.schedules[0].expression,
        ScheduleExpression::parse("rate(1 hour)").expect("valid")
    );
}

fn with_function_events(events: &str) -> Result<Template, crate::template::TemplateError> {
    Template::parse(&format!(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n{events}"
    ))
}

#[test]
fn sqs_event_defaults_and_switches() {
    let template = with_function_events(
        "        Q:\n          Type: SQS\n          Properties: { Queue: arn:aws:sqs:r:1:q, Enabled: false }\n",
    )
    .expect("parses");
    let sqs = &template.function("F").expect("F").sqs_events[0];
    assert_eq!(sqs.batch_size, 10);
    assert!(!sqs.report_batch_item_failures);
    assert!(!sqs.enabled);
}

#[test]
fn schedule_inputs_states_and_mistakes() {
    let template = with_function_events(concat!(
        "        A:\n          Type: Schedule\n",
        "          Properties: { Schedule: rate(5 minutes), Input: '{\"job\":1}', Enabled: false }\n",
        "        B:\n          Type: ScheduleV2\n",
        "          Properties: { ScheduleExpression: cron(0 * * * ? *), State: DISABLED }\n",
    ))
    .expect("parses");
    let schedules = template.function("F").expect("F").schedules;
    assert_eq!(schedules[0].input.as_deref(), Some("{\"job\":1}"));
    assert!(schedules.iter().all(|s| !s.enabled));

    for bad in [
        "          Type: Schedule\n          Properties: { Schedule: rate(1 hours) }\n",
        "          Type: ScheduleV2\n          Properties: { Schedule: rate(1 hour) }\n",
        "          Type: Schedule\n          Properties: { Schedule: rate(1 hour), Input: 'not json' }\n",
        "          Type: SQS\n          Properties: { BatchSize: 5 }\n",
    ] {
        let events = format!("        E:\n{bad}");
        assert!(with_function_events(&events).is_err(), "{bad}");
    }
}

#[test]
fn bucket_notifications_need_a_queue_and_an_event() {
    let bucket = |config: &str| {
        Template::parse(&format!(
            "Resources:\n  B:\n    Type: AWS::S3::Bucket\n    Properties:\n      NotificationConfiguration:\n        QueueConfigurations:\n          - {config}\n"
        ))
    };
    assert!(bucket("{ Event: 's3:ObjectCreated:*', Queue: arn:aws:sqs:r:1:q }").is_ok());
    assert!(bucket("{ Event: 's3:ObjectCreated:*' }").is_err());
    assert!(bucket("{ Queue: arn:aws:sqs:r:1:q }").is_err());
}

#[test]
fn schedules_are_named_after_function_and_event() {
    let retention = template()
        .function("RetentionFunction")
        .expect("RetentionFunction");
    let targets = schedule_targets(&retention, "p-", "ap-northeast-1");
    assert_eq!(
        targets[0].arn,
        "arn:aws:events:ap-northeast-1:123456789012:rule/p-RetentionFunctionHourly"
    );
    assert_eq!(
        targets[1].arn,
        "arn:aws:scheduler:ap-northeast-1:123456789012:schedule/default/p-RetentionFunctionNightly"
    );
    assert!(targets.iter().all(|t| t.enabled && t.input.is_none()));
}

#[derive(Default)]
struct Recorder(Mutex<Vec<Value>>);

impl Invoke for Recorder {
    fn invoke(&self, event: Value) -> InvokeFuture<'_> {
        self.0.lock().expect("not poisoned").push(event);
        Box::pin(async { Ok(json!({"done": true})) })
    }
}

#[tokio::test]
async fn triggers_run_a_schedule_now_and_name_what_is_missing() {
    let retention = template()
        .function("RetentionFunction")
        .expect("RetentionFunction");
    let recorder = Arc::new(Recorder::default());
    let mut triggers = Triggers::new("ap-northeast-1");
    triggers.add(
        "RetentionFunction",
        recorder.clone(),
        schedule_targets(&retention, "p-", "ap-northeast-1"),
    );
    triggers.add("OtherFunction", recorder.clone(), Vec::new());

    let answer = triggers
        .invoke_schedule("RetentionFunction", None)
        .await
        .expect("invoked");
    assert_eq!(answer, json!({"done": true}));
    triggers
        .invoke_schedule("RetentionFunction", Some("Nightly"))
        .await
        .expect("invoked");
    triggers
        .invoke_schedule_moved("RetentionFunction", None, Some(2_678_400))
        .await
        .expect("invoked");
    let events = recorder.0.lock().expect("not poisoned").clone();
    assert_eq!(events[0]["detail-type"], "Scheduled Event");
    assert!(events[0]["detail"].get("clock_offset_seconds").is_none());
    assert_eq!(
        events[2]["detail"]["clock_offset_seconds"],
        json!(2_678_400)
    );
    assert_eq!(events[2]["detail-type"], "Scheduled Event");
    assert_eq!(
        events[0]["resources"][0],
        "arn:aws:events:ap-northeast-1:123456789012:rule/p-RetentionFunctionHourly"
    );
    assert!(
        events[1]["resources"][0]
            .as_str()
            .is_some_and(|arn| arn.ends_with("schedule/default/p-RetentionFunctionNightly"))
    );

    assert!(matches!(
        triggers.invoke_schedule("Nope", None).await,
        Err(TriggerError::UnknownFunction(_))
    ));
    assert!(matches!(
        triggers.invoke_schedule("OtherFunction", None).await,
        Err(TriggerError::NoSchedule(_))
    ));
    assert!(matches!(
        triggers
            .invoke_schedule("RetentionFunction", Some("Weekly"))
            .await,
        Err(TriggerError::UnknownEvent { .. })
    ));
}
