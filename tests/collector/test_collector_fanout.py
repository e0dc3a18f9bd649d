"""How a fan-out combines its consumers' errors."""

from __future__ import annotations

import pytest

from routewatch.collector.errors import PartialSuccessError, PermanentError, RetryableError
from routewatch.collector.service.fanout import combine_errors


@pytest.mark.parametrize(
    ("errors", "kind"),
    [
        ([PermanentError("a"), RetryableError("b")], RetryableError),
        ([PermanentError("a"), PermanentError("b")], PermanentError),
        ([PartialSuccessError(1, "a"), PermanentError("b")], PermanentError),
        ([PartialSuccessError(1, "a"), RetryableError("b")], RetryableError),
        ([PartialSuccessError(1, "a"), PartialSuccessError(4, "b")], PartialSuccessError),
        ([ConnectionError("x"), PermanentError("b")], RetryableError),
    ],
)
def test_combined_error_kind(errors: list[BaseException], kind: type) -> None:
    combined = combine_errors(errors)
    assert type(combined) is kind
    if isinstance(combined, PartialSuccessError):
        assert combined.rejected == 4


def test_single_error_is_passed_through() -> None:
    err = RetryableError("x", retry_after=2)
    assert combine_errors([err]) is err


def test_longest_retry_after_wins() -> None:
    combined = combine_errors([RetryableError("a", 1), RetryableError("b", 5)])
    assert isinstance(combined, RetryableError) and combined.retry_after == 5
