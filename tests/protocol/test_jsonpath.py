"""protocol.jsonpath: the one renderer of JSON paths, in the three forms the roles answer with."""

from __future__ import annotations

import ast
import re
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reseau_poles.protocol.jsonpath import json_path
from reseau_poles.protocol.models import json_path as models_path

names = st.text(max_size=8) | st.sampled_from(["items", "a.b", "", "x y", "it's", "[0]", '"q"'])
locations = st.lists(names | st.integers(min_value=-3, max_value=10_000), max_size=8)


# The renderers each module had before there was one, kept here as the reference.
def dotted_before(loc: Any, root: str = "$") -> str:
    return ".".join(str(part) for part in loc) or root


def indexed_before(loc: Any) -> str:
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "$"


def quoted_before(loc: Any) -> str:
    plain = re.compile(r"[^.\[\]'\"\s]+")
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif plain.fullmatch(part):
            path += f".{part}" if path else part
        else:
            path += f"[{part!r}]"
    return path


def read_quoted(path: str) -> list[str | int]:
    """Reads a "quoted" path back into its location (the form is meant to be unambiguous)."""
    parts: list[str | int] = []
    token = re.compile(r"\[(-?\d+)\]|\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")\]|\.?([^.\[]+)")
    position = 0
    while position < len(path):
        match = token.match(path, position)
        assert match, (path, position)
        index, quoted, name = match.groups()
        if index is not None:
            parts.append(int(index))
        elif quoted is not None:
            parts.append(ast.literal_eval(quoted))
        else:
            parts.append(name)
        position = match.end()
    return parts


@given(locations, st.sampled_from(["$", "?", "message"]))
@settings(max_examples=300)
def test_each_form_writes_what_its_module_wrote(loc: list[Any], root: str) -> None:
    assert json_path(loc, root=root) == dotted_before(loc, root)
    assert json_path(tuple(loc), style="indexed") == indexed_before(loc)
    assert json_path(loc, style="quoted", root="") == quoted_before(loc)
    assert models_path(loc) == quoted_before(loc)


@given(locations)
@settings(max_examples=300)
def test_the_quoted_form_reads_back_as_its_location(loc: list[Any]) -> None:
    assert read_quoted(json_path(loc, style="quoted", root="")) == loc


@given(locations)
def test_the_indexed_form_is_the_quoted_one_for_plain_names(loc: list[Any]) -> None:
    plain = [part for part in loc if isinstance(part, int) or re.fullmatch(r"[a-z_0-9]+", part)]
    assert json_path(plain, style="indexed", root="") == json_path(plain, style="quoted", root="")


def test_the_forms_the_roles_answer_with() -> None:
    assert json_path(("body", "items", 0, "quantity")) == "body.items.0.quantity"
    assert json_path(()) == "$"
    assert json_path((), root="message") == "message"
    assert json_path(("regions", 1), style="indexed") == "regions[1]"
    assert json_path((0, "a"), style="indexed") == "[0].a"
    assert json_path(("context", "location", "city", "code")) == "context.location.city.code"
    assert json_path(("tags", "a.b"), style="quoted", root="") == "tags['a.b']"
    assert json_path((), style="quoted", root="") == ""
