"""Captures the SQS message bodies moto sends for S3 notifications, for the S3 fix-up tests.

Run against a fresh moto server (the one in the repository's .venv):
    .venv/bin/python infra/local-stack/testdata/capture_moto_s3_events.py http://127.0.0.1:PORT
It writes testdata/moto/<name>.json: one message body per file, exactly as received.
"""

import json
import pathlib
import sys

import boto3

ENDPOINT = sys.argv[1]
OUT = pathlib.Path(__file__).parent / "moto"
REGION = "ap-northeast-1"
# name -> object key; the names become file names.
KEYS = {
    "put-nested-key": "selfies/a/b.jpg",
    "put-space-plus-japanese": "selfies/w1/写真 1+x.jpg",
    "put-reserved-characters": "selfies/x=1&y(2)~'!*:;,@$.jpg",
}


def client(service):
    return boto3.client(
        service,
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def main():
    s3, sqs = client("s3"), client("sqs")
    bucket = "capture-selfies"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    url = sqs.create_queue(QueueName="capture-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "selfies/"}]}},
                }
            ]
        },
    )
    save("test-event", receive_one(sqs, url))
    for name, key in KEYS.items():
        s3.put_object(Bucket=bucket, Key=key, Body=b"jpeg bytes")
        save(name, receive_one(sqs, url))


def receive_one(sqs, url):
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, WaitTimeSeconds=5)["Messages"]
    sqs.delete_message(QueueUrl=url, ReceiptHandle=messages[0]["ReceiptHandle"])
    return messages[0]["Body"]


def save(name, body):
    json.loads(body)  # only JSON bodies are expected
    (OUT / f"{name}.json").write_text(body + "\n", encoding="utf-8")
    print(name, body)


main()
