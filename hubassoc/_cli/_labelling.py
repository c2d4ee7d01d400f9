"""The labels of a ``create`` input file, turned into the association types they name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from .._models import AssociationCategory, AssociationSpec, AssociationType

_SPEC: Final = re.compile(r"([A-Za-z_]{1,64}):([0-9]{1,10})")
_TYPE_ID: Final = re.compile(r"[0-9]{1,10}")


class LabelError(Exception):
    """Labels of an input file that name no association type of the object pair."""


def needs_definitions(texts: Iterable[str]) -> bool:
    """Whether resolving ``texts`` needs the pair's label definitions (one request).

    Only ``CATEGORY:typeId`` is sent as written; a name, a bare type id and the
    unlabelled association are looked up.
    """
    return any(_SPEC.fullmatch(text) is None for text in texts)


def resolve_labels(
    texts: Iterable[str],
    definitions: Sequence[AssociationType],
    from_type: str,
    to_type: str,
) -> dict[str, AssociationSpec]:
    """Map each label text of an input file to the association type it names.

    A text is a label name (``"Decision maker"``, matched exactly), an association type
    id (``"3"``, whose category the definitions give), ``CATEGORY:typeId``
    (``"USER_DEFINED:3"``, taken as written) or ``""``, the pair's unlabelled type.
    Raises :class:`LabelError` naming every text that names nothing, before any write.
    """
    specs: dict[str, AssociationSpec] = {}
    unknown_names: list[str] = []
    problems: list[str] = []
    pair = f"from {from_type} to {to_type}"
    for text in dict.fromkeys(texts):
        written = _SPEC.fullmatch(text)
        if written is not None:
            category, type_id = written.group(1).upper(), int(written.group(2))
            specs[text] = AssociationSpec(AssociationCategory(category), type_id)
            continue
        if text == "":
            found = sorted(
                (d for d in definitions if d.label is None),
                key=lambda d: d.category != AssociationCategory.HUBSPOT_DEFINED,
            )
            if not found:
                problems.append(f"no unlabelled association type {pair} for rows without a label")
                continue
        elif _TYPE_ID.fullmatch(text):
            found = [d for d in definitions if d.type_id == int(text)]
            if not found:
                problems.append(
                    f"no association type {text} {pair} (write CATEGORY:{text} to send it as it is)"
                )
                continue
            if len({d.category for d in found}) > 1:
                categories = ", ".join(sorted(str(d.category.value) for d in found))
                problems.append(
                    f"association type {text} {pair} is defined as {categories}; "
                    f"write CATEGORY:{text}"
                )
                continue
        else:
            found = [d for d in definitions if d.label == text]
            if not found:
                unknown_names.append(text)
                continue
        specs[text] = found[0].spec
    if unknown_names:
        known = sorted({d.label for d in definitions if d.label is not None})
        names = ", ".join(map(repr, unknown_names))
        problems.insert(
            0,
            f"no association label{'s' if len(unknown_names) > 1 else ''} {names} {pair}; "
            f"the labels are: {', '.join(map(repr, known)) or 'none'}",
        )
    if problems:
        raise LabelError("; ".join(problems))
    return specs
