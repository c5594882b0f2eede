"""Cursor pagination for every list of the API: stable under inserts, constant cost per page.

Lists read from one queryset use ``IdCursorPagination`` (id order). A list merged from several
tables (a contract's courses and programs) pages by a string key with ``KeyCursorPagination``:
the caller fetches the rows after or before a key; the response has the same shape."""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from config.text import has_nul


class IdCursorPagination(CursorPagination):
    """Pages in id order; ``?page_size=`` asks for 1 to 500 rows (50 by default)."""

    ordering = "pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request: Request):
        """DRF's cursor, whose position must be an id: a forged one (any other text, a NUL) is
        an invalid cursor (404), not a database error."""
        cursor = super().decode_cursor(request)
        position: str | None = None
        if cursor is not None:
            # Text from the query string; DRF's stubs type it as a number.
            position = cursor.position  # type: ignore[assignment]
        if position is not None and not (position.isascii() and position.isdigit()):
            raise NotFound(self.invalid_cursor_message)
        return cursor


class KeyCursorPagination(IdCursorPagination):
    """Pages over rows ordered by a string key. ``fetch(after=, before=, limit=)`` returns up to
    ``limit`` rows after ``after`` in key order, or before ``before`` nearest first."""

    # Named apart from DRF's ``page`` attribute (the rows of a queryset's page), which this
    # paginator does not use.
    def paginate_by_key(
        self,
        request: Request,
        fetch: Callable[..., Sequence[Any]],
        key: Callable[[Any], str],
    ) -> list:
        self.request = request
        self.base_url = base_url = request.build_absolute_uri()
        size = self.get_page_size(request) or self.page_size
        direction, position = self._decode(request.query_params.get(self.cursor_query_param))
        backwards = direction == "b"
        rows = list(
            fetch(
                after=None if backwards else position,
                before=position if backwards else None,
                limit=size + 1,
            )
        )
        more = len(rows) > size
        rows = rows[:size]
        if backwards:
            rows.reverse()
        first, last = (key(rows[0]), key(rows[-1])) if rows else (position, position)
        has_next = more if not backwards else position is not None
        has_previous = more if backwards else position is not None
        self._next = self._link(base_url, "a", last) if has_next and last is not None else None
        self._previous = (
            self._link(base_url, "b", first) if has_previous and first is not None else None
        )
        return rows

    def get_next_link(self):
        return self._next

    def get_previous_link(self):
        return self._previous

    def get_paginated_response(self, data) -> Response:
        return Response({"next": self._next, "previous": self._previous, "results": data})

    def _link(self, base_url: str, direction: str, position: str) -> str:
        token = json.dumps([direction, position]).encode()
        encoded = base64.urlsafe_b64encode(token).decode()
        return replace_query_param(base_url, self.cursor_query_param, encoded)

    def _decode(self, raw: str | None) -> tuple[str, str | None]:
        if not raw:
            return "a", None
        try:
            direction, position = json.loads(base64.urlsafe_b64decode(raw.encode()))
        except (ValueError, TypeError, binascii.Error) as error:
            raise NotFound(self.invalid_cursor_message) from error
        if direction not in {"a", "b"} or not isinstance(position, str) or has_nul(position):
            raise NotFound(self.invalid_cursor_message)
        return direction, position


class PositionCursorPagination(IdCursorPagination):
    """Pages over a queryset in the order the caller chose (a table's sort), by position: the
    cursor is an opaque place in that order. A row whose sort value changes between two pages
    can move past the reader (shown twice or not at all); a list that must not miss a row pages
    by key instead. Same shape and page sizes as the other lists."""

    max_position = 2**31 - 1

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.base_url = base_url = request.build_absolute_uri()
        size = self.get_page_size(request) or self.page_size
        position = self._position(request.query_params.get(self.cursor_query_param))
        rows = list(queryset[position : position + size + 1])
        more = len(rows) > size
        rows = rows[:size]
        self._next = self._link(base_url, position + size) if more else None
        self._previous = self._link(base_url, max(0, position - size)) if position else None
        return rows

    def get_next_link(self):
        return self._next

    def get_previous_link(self):
        return self._previous

    def get_paginated_response(self, data) -> Response:
        return Response({"next": self._next, "previous": self._previous, "results": data})

    def _link(self, base_url: str, position: int) -> str:
        token = json.dumps(["p", position]).encode()
        encoded = base64.urlsafe_b64encode(token).decode()
        return replace_query_param(base_url, self.cursor_query_param, encoded)

    def _position(self, raw: str | None) -> int:
        if not raw:
            return 0
        try:
            kind, position = json.loads(base64.urlsafe_b64decode(raw.encode()))
        except (ValueError, TypeError, binascii.Error) as error:
            raise NotFound(self.invalid_cursor_message) from error
        valid = kind == "p" and type(position) is int and 0 <= position <= self.max_position
        if not valid:
            raise NotFound(self.invalid_cursor_message)
        return position
