"""Cursor pagination for every list of the API: stable under inserts, constant cost per page."""

from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Pages in id order; ``?page_size=`` asks for 1 to 500 rows (50 by default)."""

    ordering = "pk"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
