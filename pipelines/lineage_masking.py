"""OpenLineage events with personal data masked.

A task that fails sends a FAIL event whose `errorMessage` facet carries the exception's message and
stack trace (apache-airflow-providers-openlineage); an exception from a database or a library can quote
a NIK. The OpenLineage client's `transform` transport runs an `EventTransformer` on every event before
the real transport sends it: `masked_transport` wraps whatever transport is configured in one that
runs `MaskingTransformer`, which passes every string of the event through `mask_text`.
"""

from __future__ import annotations

from typing import Any

import attr
from openlineage.client.transport.transform import EventTransformer

from pipelines.privacy import mask_text

TRANSFORMER = "pipelines.lineage_masking.MaskingTransformer"


def masked_transport(transport: dict[str, Any]) -> dict[str, Any]:
    """An OpenLineage transport configuration that masks events, then sends them through `transport`."""
    if transport.get("type") == "transform" and transport.get("transformer_class") == TRANSFORMER:
        return transport
    return {"type": "transform", "transformer_class": TRANSFORMER, "transport": transport}


def _masked(value: Any) -> Any:
    if attr.has(type(value)):
        for field in attr.fields(type(value)):
            current = getattr(value, field.name)
            masked = _masked(current)
            if masked != current:
                setattr(value, field.name, masked)
        return value
    if isinstance(value, dict):
        return {k: _masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return mask_text(value) if isinstance(value, str) else value


class MaskingTransformer(EventTransformer):
    """Masks every string of an event (facets included), in the copy the transport hands it."""

    def transform(self, event: Any) -> Any:
        return _masked(event)
