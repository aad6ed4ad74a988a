"""Computes the Standard Webhooks test vectors pasted into shared/src/billing/signature.rs,
with implementations independent of ours: the `standardwebhooks` package (pinned in
infra/requirements.txt) for the base64 key derivation, and Python's hmac for the older
raw-bytes derivation (key = the UTF-8 bytes of the whole secret string).

Usage: .venv/bin/python tests/vectors/standard_webhooks.py"""
import base64
import hashlib
import hmac
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = '{"test": 2432232314}'

at = datetime.fromtimestamp(TIMESTAMP, tz=timezone.utc)
print("BASE64_SIGNATURE", Webhook(SECRET).sign(MSG_ID, at, BODY))
content = f"{MSG_ID}.{TIMESTAMP}.{BODY}".encode()
raw = hmac.new(SECRET.encode(), content, hashlib.sha256).digest()
print("RAW_SIGNATURE", "v1," + base64.b64encode(raw).decode())
