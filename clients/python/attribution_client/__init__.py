"""Python client of the attribution service.

Installed with ``pip install ./clients/python`` (after ``deploy/build.sh``,
which puts the generated stubs, package ``attribution.v1``, next to it), or
used from the source tree with ``build/gen/python`` and ``clients/python`` on
``PYTHONPATH``.

The names below load on first use, so that the import workers (which need
only ``attribution_client._wire``) start without importing grpc.
"""
# The project's version (CMakeLists.txt's project VERSION); a test checks
# that the server reports the same.
__version__ = "0.1.0"

__all__ = [
    "AlreadyExists", "AttributionError", "Client", "DeadlineExceeded",
    "FailedPrecondition", "ImportResult", "InvalidArgument", "NotFound",
    "PermissionDenied", "RejectedRow", "ResourceExhausted", "Unauthenticated",
    "Unavailable", "event_to_row", "row_to_event",
]


def __getattr__(name):
    if name in __all__:
        from attribution_client import client
        return getattr(client, name)
    raise AttributeError("module 'attribution_client' has no attribute %r" % name)


def __dir__():
    return sorted(__all__)
