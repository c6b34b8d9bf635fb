"""Python client of the attribution service.

Installed with ``pip install ./clients/python`` (after ``deploy/build.sh``,
which puts the generated stubs, package ``attribution.v1``, next to it), or
used from the source tree with ``build/gen/python`` and ``clients/python`` on
``PYTHONPATH``.
"""
from attribution_client.client import (
    AlreadyExists,
    AttributionError,
    Client,
    DeadlineExceeded,
    FailedPrecondition,
    ImportResult,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RejectedRow,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    event_to_row,
    row_to_event,
)

__all__ = [
    "AlreadyExists", "AttributionError", "Client", "DeadlineExceeded",
    "FailedPrecondition", "ImportResult", "InvalidArgument", "NotFound",
    "PermissionDenied", "RejectedRow", "ResourceExhausted", "Unauthenticated",
    "Unavailable", "event_to_row", "row_to_event",
]
