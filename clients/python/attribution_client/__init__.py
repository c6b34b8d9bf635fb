"""Thin Python client of the attribution service.

The generated stubs (package ``attribution.v1``) come from the build:
``build/gen/python`` must be on ``PYTHONPATH`` next to this package.
"""
from attribution_client.client import Client, ImportResult, RejectedRow, row_to_event

__all__ = ["Client", "ImportResult", "RejectedRow", "row_to_event"]
