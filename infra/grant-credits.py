"""Local development only: grants credits to a wallet in the local stack's emulation, with
the `grant` ledger entry every balance change has (balance = sum of the ledger), in one
transaction. Usage: .venv/bin/python infra/grant-credits.py EMAIL N

The emulation is $AWS_ENDPOINT_URL (default ./infra/dev.sh's http://127.0.0.1:4566), the
tables' prefix $STACK_PREFIX (default anumi-local-), as infra/stack.sh starts the stack;
`grant` is also used by infra/contract_session.py for a stack with another table prefix."""
import os
import sys
import time
import uuid

import boto3

EMULATION = os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
PREFIX = os.environ.get("STACK_PREFIX", "anumi-local-")


def dynamodb(endpoint=EMULATION):
    return boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name="ap-northeast-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    )


def main(email, credits):
    grant(dynamodb(), PREFIX, email, int(credits))
    print(f"added {credits} credits")


def grant(client, prefix, email, credits):
    """Adds `credits` to the wallet of `email` in the tables named `{prefix}WalletsTable` and
    `{prefix}LedgerTable`; exits if the address has never signed in."""
    wallets, ledger = f"{prefix}WalletsTable", f"{prefix}LedgerTable"
    pointer = client.get_item(
        TableName=wallets, Key={"pk": {"S": f"EMAIL#{email.strip().lower()}"}}
    ).get("Item")
    if not pointer:
        sys.exit(f"no wallet for {email}: sign in once first")
    wallet_id = pointer["wallet_id"]["S"]
    now = int(time.time())
    client.transact_write_items(TransactItems=[
        {"Update": {
            "TableName": wallets,
            "Key": {"pk": {"S": f"WALLET#{wallet_id}"}},
            "UpdateExpression": "SET credits = credits + :n",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeValues": {":n": {"N": str(credits)}},
        }},
        {"Put": {
            "TableName": ledger,
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


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
