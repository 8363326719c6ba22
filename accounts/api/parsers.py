"""The JSON parser of API v1: DRF's, with a limit on how deeply a body may nest.

Python's JSON decoder recurses once per level of nesting, so ``"[" * 5000`` exhausts the stack
and raises ``RecursionError``. DRF's parser turns only ``ValueError`` into a 400, so that error
escaped as a 500 with a traceback in the log (issue 10, found by an outside attack). The API's
bodies nest a few levels (an entry, its list of exercises, one exercise); anything deeper than
``MAX_JSON_DEPTH`` is refused with a 400 that says why, whether the decoder ran out of stack or
the body parsed and turned out too deep.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Generous: ten times what any payload of the contract needs, far below what the decoder's
# recursion survives (about 900 levels within a request's stack).
MAX_JSON_DEPTH = 32

TOO_DEEP_MESSAGE = (
    f"JSON parse error - the body is nested too deeply (at most {MAX_JSON_DEPTH} levels of "
    "lists and objects)."
)


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """Whether ``value`` nests lists and objects more than ``limit`` levels deep.

    Iterative, so that checking a deep value cannot itself run out of stack.
    """
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth + 1 > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class DepthLimitedJSONParser(JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(TOO_DEEP_MESSAGE) from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(TOO_DEEP_MESSAGE)
        return data
