"""moto's server with three fixes: DynamoDB writes are serialized, sent email keeps both parts,
and the data dump can be read while other requests write.

moto rolls back a cancelled TransactWriteItems by restoring a deep copy of each table it
touched, taken when the transaction began. A write by another request thread in between is
lost with the rollback (real DynamoDB isolates transactions). Tests race conditional
transactions on purpose (50 concurrent webhook deliveries, two retention runs), so every
DynamoDB write here takes one lock: no write can land inside another's snapshot window.
"""

import functools
import json
import sys
import threading
import time
from urllib.parse import parse_qs, urlparse

from moto.dynamodb.models import DynamoDBBackend
from moto.moto_api._internal.responses import MotoAPIResponse
from moto.server import main
from moto.ses.models import Message, RawMessage
from moto.sesv2.responses import SESV2Response

_writes = threading.RLock()


def _serialized(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with _writes:
            return method(*args, **kwargs)

    return locked


for _name in ("put_item", "update_item", "delete_item", "transact_write_items"):
    setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))



def _stamped(cls):
    init = cls.__init__

    @functools.wraps(init)
    def stamped(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.sent_at = time.time()

    cls.__init__ = stamped


_stamped(Message)
_stamped(RawMessage)

_send_email = SESV2Response.send_email


def _send_email_keeping_parts(self):
    answer = _send_email(self)
    body = json.loads(self.body).get("Content", {}).get("Simple", {}).get("Body", {})
    message_id = json.loads(answer).get("MessageId")
    for message in reversed(self.sesv2_backend.core_backend.sent_messages):
        if message.id == message_id:
            message.text = body.get("Text", {}).get("Data")
            message.html = body.get("Html", {}).get("Data")
            break
    return answer


SESV2Response.send_email = _send_email_keeping_parts


def _model_data(self, request, full_url, headers):
    """`/moto-api/data.json`, iterating over copies (moto's own iterates live lists, and a
    write from another thread fails the dump with a 500), and `?service=ses` dumps one
    service only: the mail readers need SES, not every DynamoDB item of every test."""
    from moto.core.model_instances import model_data

    wanted = parse_qs(urlparse(full_url).query).get("service")
    results = {}
    for service in sorted(list(model_data)):
        if wanted and service not in wanted:
            continue
        models = model_data[service]
        results[service] = {}
        for name in sorted(list(models)):
            results[service][name] = []
            for instance in list(models[name].instances_tracked):
                fields = {}
                for attr in dir(instance):
                    if attr.startswith("_"):
                        continue
                    try:
                        value = getattr(instance, attr)
                        json.dumps(value)
                    except (TypeError, AttributeError, ValueError, RuntimeError):
                        continue
                    fields[attr] = value
                results[service][name].append(fields)
    return 200, {"Content-Type": "application/json"}, json.dumps(results)


MotoAPIResponse.model_data = _model_data

if __name__ == "__main__":
    main(sys.argv[1:])
