"""Page-number and cursor pagination that refuse a malformed page, size or cursor."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination, PageNumberPagination

if TYPE_CHECKING:
    # Type names only: DRF loads the pagination while its generic views load.
    from django.core.paginator import Paginator
    from rest_framework.pagination import Cursor
    from rest_framework.request import Request


class _StrictPageSize:
    """A `page_size` that is not a whole number from 1 up is an error, not silently ignored."""

    # Set by each pagination class below.
    page_size: int
    page_size_query_param: str
    max_page_size: int

    def get_page_size(self, request: Request) -> int:
        values = request.query_params.getlist(self.page_size_query_param)
        if not values:
            return self.page_size
        if len(values) > 1 or not values[0].isdigit() or int(values[0]) < 1:
            raise exceptions.ValidationError(
                {self.page_size_query_param: [_("Give one whole number from 1 up.")]}
            )
        return min(int(values[0]), self.max_page_size)


class PagePagination(_StrictPageSize, PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request: Request, paginator: Paginator) -> int | str:
        values = request.query_params.getlist(self.page_query_param)
        if not values:
            return 1
        if len(values) > 1 or not (values[0].isdigit() or values[0] in self.last_page_strings):
            raise exceptions.ValidationError(
                {self.page_query_param: [_("Give one page number from 1 up, or “last”.")]}
            )
        if values[0] in self.last_page_strings:
            return paginator.num_pages
        return values[0]


class ResponseCursorPagination(_StrictPageSize, CursorPagination):
    """Cursor pagination: a deep page costs the same as the first (keyset, no OFFSET)."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "pk"

    def decode_cursor(self, request: Request) -> Cursor | None:
        """A cursor is only ever one this API handed out; anything else is the client's error.

        DRF checks the cursor's shape but not its position, which for `pk` ordering must be a
        whole number: a crafted position would otherwise reach the database as a bad value.
        """
        invalid = exceptions.ValidationError(
            {
                self.cursor_query_param: [
                    _(
                        "This cursor is not one the API gave out. Start again "
                        "from the first page and follow the “next” links."
                    )
                ]
            }
        )
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise invalid from None
        # The stubs type the position as a number; DRF gives the text of the query string.
        position: str | None = cursor.position if cursor is not None else None  # type: ignore[assignment]
        if position is not None and not position.isdigit():
            raise invalid
        return cursor
