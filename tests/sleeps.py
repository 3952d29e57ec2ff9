"""A stand-in for `RetryPolicy.sleep` in the tests of every retrying client."""

from __future__ import annotations


class Sleeps(list[float]):
    """A `RetryPolicy.sleep` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
