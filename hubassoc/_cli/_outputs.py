"""The command line's own output lines: created pairs and labels.

Read and associate lines, the failed-input mapping and the files outputs are appended to
are the library's (:mod:`hubassoc._blocks`, :class:`hubassoc.FileStore`).
"""

from __future__ import annotations

import json

from .._models import AssociationType, LabelledAssociation

# ---------------------------------------------------------------------------- output lines


def create_line(item: LabelledAssociation) -> str:
    """One pair ``batch/create`` associated, in HubSpot's result shape, with all its labels."""
    return json.dumps(
        {
            "fromObjectTypeId": item.from_object_type_id,
            "fromObjectId": item.from_id,
            "toObjectTypeId": item.to_object_type_id,
            "toObjectId": item.to_id,
            "labels": item.labels,
        }
    )


def label_line(item: AssociationType) -> str:
    """One label definition in HubSpot's shape (``label`` is null for the unlabelled type)."""
    return json.dumps(
        {"category": str(item.category.value), "typeId": item.type_id, "label": item.label}
    )
