"""moto's server with one fix: DynamoDB writes are serialized.

moto rolls back a cancelled TransactWriteItems by restoring a deep copy of each table it
touched, taken when the transaction began. A write by another request thread in between is
lost with the rollback (real DynamoDB isolates transactions). Tests race conditional
transactions on purpose (50 concurrent webhook deliveries, two retention runs), so every
DynamoDB write here takes one lock: no write can land inside another's snapshot window.
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_writes = threading.RLock()


def _serialized(method):
    @functools.wraps(method)
    def locked(*args, **kwargs):
        with _writes:
            return method(*args, **kwargs)

    return locked


for _name in ("put_item", "update_item", "delete_item", "transact_write_items"):
    setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))

if __name__ == "__main__":
    main(sys.argv[1:])
