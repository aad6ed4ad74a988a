"""Measures selfie submitted -> avatar ready through a running local stack, as the app does
it: sign in with the emailed code (read from the mail viewer), buy a pack through the local
checkout stand-in, POST /uploads, PUT the selfie to the presigned URL, then poll the
generation every 50 ms and print when each status appeared.

Usage: .venv/bin/python infra/measure-pipeline.py [ORIGIN] [RUNS]
  ORIGIN  the stack's origin, default http://localhost:3000 (./infra/dev.sh); the API is
          ORIGIN/api when the stack serves the app, else ORIGIN itself (detected).
Prints one JSON line per run and the median of submitted -> ready.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SELFIE = os.path.join(ROOT, "tests", "fixtures", "selfie.jpg")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def main(origin="http://localhost:3000", runs="3"):
    # The session cookie is Secure: kept by hand (Python's jar sends it over https only,
    # where browsers and curl treat localhost as secure).
    opener = urllib.request.build_opener(NoRedirect)
    cookies = {}

    def call(method, url, body=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        if body is not None:
            request.add_header("content-type", "application/json")
        if cookies and url.startswith(origin):
            request.add_header("cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()))
        try:
            with opener.open(request, timeout=30) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers

    api = origin + "/api"
    if call("GET", api + "/me")[0] == 404:
        api = origin
    email = f"measure-{uuid.uuid4().hex[:8]}@example.com"
    status, _, _ = call("POST", api + "/auth/otp/start", {"email": email})
    assert status == 202, status
    code = None
    for _ in range(100):
        mail = json.loads(call("GET", origin + "/_local/mail.json")[1])
        for message in mail:
            if email in message["to"]:
                code = re.search(r"\b(\d{6})\b", message["subject"] + " " + message["text"]).group(1)
        if code:
            break
        time.sleep(0.1)
    status, _, headers = call("POST", api + "/auth/otp/verify", {"email": email, "code": code})
    assert status == 200, status
    for cookie in headers.get_all("set-cookie") or []:
        name, _, rest = cookie.partition("=")
        cookies[name] = rest.split(";")[0]
    status, body, _ = call("POST", api + "/checkout", {"product": "starter"})
    assert status == 201, (status, body)
    checkout_url = json.loads(body)["checkout_url"]
    status, body, _ = call("POST", checkout_url, raw=b"")
    if status != 303:
        # A stack without the checkout stand-in page: grant credits in the emulation.
        print(f"checkout stand-in answered {status}; granting credits with infra/grant-credits.py")
        subprocess.run([sys.executable, os.path.join(ROOT, "infra", "grant-credits.py"), email, "10"], check=True)

    selfie = open(SELFIE, "rb").read()
    timings = []
    for run in range(int(runs)):
        status, body, _ = call("POST", api + "/uploads", {
            "content_type": "image/jpeg", "content_length": len(selfie), "style": "anime",
            "products": ["stickers", "speech_bubble"], "quote": "こんにちは",
        })
        assert status in (200, 201), (status, body)
        order = json.loads(body)
        upload = order["upload"]
        started = time.monotonic()
        status, body, _ = call("PUT", upload["url"], raw=selfie, headers=upload["headers"])
        assert status == 200, (status, body)
        put_done = time.monotonic() - started
        seen = {}
        current = None
        while time.monotonic() - started < 300:
            generation = json.loads(call("GET", f"{api}/generations/{order['generation_id']}")[1])
            if generation.get("status") != current:
                current = generation.get("status")
                seen[current] = round(time.monotonic() - started, 3)
            if current in ("ready", "failed", "blocked"):
                break
            time.sleep(0.05)
        print(json.dumps({"run": run + 1, "put_s": round(put_done, 3), "status_at_s": seen}))
        if current == "ready":
            timings.append(seen["ready"])
    if timings:
        print(json.dumps({"submitted_to_ready_median_s": statistics.median(timings), "runs": timings}))


if __name__ == "__main__":
    main(*sys.argv[1:])
