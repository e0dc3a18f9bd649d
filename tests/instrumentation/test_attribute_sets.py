"""Interned metric attribute dicts: one per combination, and bounded."""

from __future__ import annotations

from routewatch.instrumentation.attribute_sets import AttributeSets


def test_one_dict_per_key() -> None:
    sets = AttributeSets()
    first = sets.get(("a", 1), lambda: {"k": "a"})
    again = sets.get(("a", 1), lambda: {"k": "other"})
    other = sets.get(("b", 1), lambda: {"k": "b"})

    assert again is first
    assert first == {"k": "a"}
    assert other == {"k": "b"}


def test_past_the_limit_dicts_are_built_each_time_and_not_kept() -> None:
    sets = AttributeSets(limit=2)
    sets.get(1, lambda: {"n": 1})
    sets.get(2, lambda: {"n": 2})
    built: list[int] = []

    def make() -> dict[str, int]:
        built.append(3)
        return {"n": 3}

    assert sets.get(3, make) == {"n": 3}
    assert sets.get(3, make) == {"n": 3}
    assert built == [3, 3]  # not remembered
    assert sets.get(1, lambda: {"n": 0}) == {"n": 1}  # the first ones still are
