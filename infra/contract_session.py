"""Signs in to a running local stack the way a person does, for infra/contract.sh: asks for
a code, reads it from the emulation's sent email (moto's data dump), checks it, gives the
wallet credits with infra/grant-credits.py, and prints the `session` cookie's value.

Usage: .venv/bin/python infra/contract_session.py API_BASE EMAIL CREDITS
(AWS_ENDPOINT_URL: the emulation the stack runs on.)"""
import importlib.util
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from http.cookies import SimpleCookie
from pathlib import Path

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
# The sign-in email's subject ends with the code ("Your Anumi sign-in code: 123456").
CODE_IN_SUBJECT = re.compile(r"(\d{6})\s*$")


def post(url, body):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method="POST",
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as refused:
        sys.exit(f"signing in for the contract run: {url} answered {refused.code} {refused.read().decode(errors='replace')}")


def codes_sent_to(email):
    with urllib.request.urlopen(f"{ENDPOINT}/moto-api/data.json?service=ses", timeout=30) as response:
        data = json.load(response)
    codes = []
    for message in data.get("ses", {}).get("Message", []):
        to = message.get("destinations", {}).get("ToAddresses", [])
        found = CODE_IN_SUBJECT.search(message.get("subject", ""))
        if email in to and found:
            codes.append(found.group(1))
    return codes


def grant_module():
    path = Path(__file__).with_name("grant-credits.py")
    spec = importlib.util.spec_from_file_location("grant_credits", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def table_prefix(client):
    """The stack's table prefix, from its one `…WalletsTable` in the emulation."""
    names = client.list_tables()["TableNames"]
    prefixes = [n[: -len("WalletsTable")] for n in names if n.endswith("WalletsTable")]
    if len(prefixes) != 1:
        sys.exit(f"expected one WalletsTable in {ENDPOINT}, found {prefixes}")
    return prefixes[0]


def main(base, email, credits):
    before = len(codes_sent_to(email))
    post(f"{base}/auth/otp/start", {"email": email, "locale": "en"})
    for _ in range(100):
        codes = codes_sent_to(email)
        if len(codes) > before:
            break
        time.sleep(0.1)
    else:
        sys.exit(f"no sign-in code reached {email} within 10 s")
    _, headers, _ = post(f"{base}/auth/otp/verify", {"email": email, "code": codes[-1]})
    cookies = SimpleCookie()
    for value in headers.get_all("set-cookie") or []:
        cookies.load(value)
    if "session" not in cookies:
        sys.exit("signed in, but no session cookie came back")
    grant = grant_module()
    client = grant.dynamodb(ENDPOINT)
    # STACK_PREFIX names the stack's tables when the emulation holds others (./infra/test.sh).
    prefix = os.environ.get("STACK_PREFIX") or table_prefix(client)
    grant.grant(client, prefix, email, int(credits))
    print(cookies["session"].value)


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3])
