"""moto's server with two fixes: DynamoDB writes are serialized, and sent email keeps both parts.

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

from moto.dynamodb.models import DynamoDBBackend
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

if __name__ == "__main__":
    main(sys.argv[1:])
