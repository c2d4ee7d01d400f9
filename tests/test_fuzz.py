"""Property-based input fuzzing: a valid request or InvalidInputError, nothing else."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hubassoc
from hubassoc import AssociationSpec, InvalidInputError
from hubassoc._batch import Plan

from .conftest import TOKEN

CLIENT = hubassoc.Client(
    TOKEN, base_url="http://127.0.0.1:9", read_chunk_size=7, write_chunk_size=5
)

scalars = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.binary(max_size=4),
)
ids = st.one_of(
    st.lists(scalars, max_size=20),
    scalars,
    st.dictionaries(st.text(max_size=3), scalars, max_size=3),
)
pairs = st.one_of(
    st.lists(
        st.one_of(st.tuples(scalars, scalars), st.lists(scalars, max_size=3), scalars), max_size=12
    ),
    st.dictionaries(
        scalars.filter(lambda v: v is None or isinstance(v, str | int)),
        st.lists(scalars, max_size=3),
        max_size=4,
    ),
    scalars,
)
specs = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["USER_DEFINED", "HUBSPOT_DEFINED", "", "X"]), st.integers(-5, 10**6)
        ),
        st.tuples(scalars, scalars),
        st.builds(
            AssociationSpec,
            st.sampled_from(["USER_DEFINED", "INTEGRATOR_DEFINED"]),
            st.integers(0, 100),
        ),
        scalars,
    ),
    max_size=8,
)
object_types = st.one_of(
    st.sampled_from(
        ["contacts", "0-1", "p_cars", "2-123", "../x", "contacts/1", "a?b", "%2e%2e", "", " "]
    ),
    st.text(max_size=10),
    scalars,
)


def _check(plan: Plan[Any]) -> None:
    path = plan.path
    assert path.startswith("/crm/")
    segments = unquote(path).split("/")
    assert ".." not in segments
    assert "." not in segments
    assert "?" not in path
    assert "#" not in path
    while (chunk := plan.next_chunk()) is not None:
        body = json.loads(chunk.body)
        assert 1 <= len(body["inputs"]) <= 7
        for value in chunk.context["ids"]:
            assert isinstance(value, str)
            assert value
            assert value.strip() == value


def _outcome(call: Any) -> None:
    try:
        op = call()
    except InvalidInputError:
        return
    _check(op._make_plan())


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(object_types, object_types, ids)
def test_read_inputs(from_type: Any, to_type: Any, values: Any) -> None:
    _outcome(lambda: CLIENT.read(from_type, to_type, values))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(object_types, object_types, pairs)
def test_write_inputs(from_type: Any, to_type: Any, values: Any) -> None:
    _outcome(lambda: CLIENT.associate_default(from_type, to_type, values))
    _outcome(lambda: CLIENT.archive(from_type, to_type, values))


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(object_types, object_types, specs)
def test_spec_inputs(from_type: Any, to_type: Any, values: Any) -> None:
    _outcome(lambda: CLIENT.purge_configurations(from_type, to_type, values))
