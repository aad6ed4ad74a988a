"""Local development only: grants credits to a wallet in the local stack's emulation, with
the `grant` ledger entry every balance change has (balance = sum of the ledger), in one
transaction. Usage: .venv/bin/python infra/grant-credits.py EMAIL N

It writes to the emulation the running stack uses: $AWS_ENDPOINT_URL if set, else the
endpoint ./infra/dev.sh records in .local/endpoint while it runs (EMULATION=host:port
./infra/dev.sh moves it off the default 127.0.0.1:4566); the tables' prefix is $STACK_PREFIX
(default anumi-local-), as infra/stack.sh starts the stack. `grant` is also used by
infra/contract_session.py for a stack with another endpoint and table prefix."""
import os
import pathlib
import sys
import time
import uuid

import boto3

ROOT = pathlib.Path(__file__).resolve().parent.parent
PREFIX = os.environ.get("STACK_PREFIX", "anumi-local-")


def emulation():
    """The running stack's emulation endpoint, never a guessed default."""
    if os.environ.get("AWS_ENDPOINT_URL"):
        return os.environ["AWS_ENDPOINT_URL"]
    recorded = ROOT / ".local" / "endpoint"
    if recorded.is_file() and recorded.read_text().strip():
        return recorded.read_text().strip()
    sys.exit("no local stack is running (start ./infra/dev.sh), or set AWS_ENDPOINT_URL")


def dynamodb(endpoint=None):
    return boto3.client(
        "dynamodb", endpoint_url=endpoint or emulation(), region_name="ap-northeast-1",
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
