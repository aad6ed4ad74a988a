"""Local development only: grants credits to a wallet in the local stack's emulation, with
the `grant` ledger entry every balance change has (balance = sum of the ledger), in one
transaction. Usage: .venv/bin/python infra/grant-credits.py EMAIL N
The emulation is AWS_ENDPOINT_URL (default ./infra/dev.sh's http://127.0.0.1:4566), the
tables' prefix STACK_PREFIX (default anumi-local-), as infra/stack.sh starts the stack."""
import os
import sys
import time
import uuid

import boto3

EMULATION = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
PREFIX = os.environ.get("STACK_PREFIX", "anumi-local-")
WALLETS = f"{PREFIX}WalletsTable"
LEDGER = f"{PREFIX}LedgerTable"


def main(email, credits):
    credits = int(credits)
    client = boto3.client(
        "dynamodb", endpoint_url=EMULATION, region_name="ap-northeast-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )
    pointer = client.get_item(
        TableName=WALLETS, Key={"pk": {"S": f"EMAIL#{email.strip().lower()}"}}
    ).get("Item")
    if not pointer:
        sys.exit(f"no wallet for {email}: sign in once first")
    wallet_id = pointer["wallet_id"]["S"]
    now = int(time.time())
    client.transact_write_items(TransactItems=[
        {"Update": {
            "TableName": WALLETS,
            "Key": {"pk": {"S": f"WALLET#{wallet_id}"}},
            "UpdateExpression": "SET credits = credits + :n",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":n": {"N": str(credits)}},
        }},
        {"Put": {
            "TableName": LEDGER,
            "Item": {
                "wallet_id": {"S": wallet_id},
                "entry": {"S": f"{now:011d}#{uuid.uuid4().hex}"},
                "at": {"N": str(now)},
                "kind": {"S": "grant"},
                "credits": {"N": str(credits)},
                "note": {"S": "granted by infra/grant-credits.py"},
            },
            "ConditionExpression": "attribute_not_exists(wallet_id)",
        }},
    ])
    print(f"added {credits} credits")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
