"""Local development only: adds credits to a wallet in the local stack's emulation, until
billing (Polar checkout) exists. Usage: .venv/bin/python infra/grant-credits.py EMAIL N"""
import sys

import boto3

EMULATION = "http://127.0.0.1:4566"
TABLE = "anumi-local-WalletsTable"


def main(email, credits):
    table = boto3.resource(
        "dynamodb", endpoint_url=EMULATION, region_name="ap-northeast-1",
        aws_access_key_id="local", aws_secret_access_key="local",
    ).Table(TABLE)
    pointer = table.get_item(Key={"pk": f"EMAIL#{email.strip().lower()}"}).get("Item")
    if not pointer:
        sys.exit(f"no wallet for {email}: sign in once first")
    table.update_item(
        Key={"pk": f"WALLET#{pointer['wallet_id']}"},
        UpdateExpression="SET credits = credits + :n",
        ExpressionAttributeValues={":n": int(credits)},
    )
    print(f"added {credits} credits")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
