from __future__ import annotations

import pytest

from routewatch.instrumentation.routing.spec import (
    SpecError,
    Target,
    parse_entry,
    parse_targets,
    split_entries,
)


def test_entry_with_attribute_path() -> None:
    target = parse_entry("app.router:Router.handle(operation=request.operation_type)")
    assert target == Target(
        "app.router:Router.handle(operation=request.operation_type)",
        "app.router",
        "Router.handle",
        ("request", "operation_type"),
    )


def test_entry_without_operation_uses_no_path() -> None:
    assert parse_entry("app.cache:SupportCache.get").operation_path is None


def test_dict_key_steps_may_hold_dashes() -> None:
    assert parse_entry("m:f(operation=payload.meta.op-type)").operation_path == (
        "payload",
        "meta",
        "op-type",
    )


def test_whitespace_is_tolerated() -> None:
    target = parse_entry("app.router : handle ( operation = req.kind )")
    assert (target.module, target.qualname, target.operation_path) == (
        "app.router",
        "handle",
        ("req", "kind"),
    )


def test_entries_split_on_semicolons_and_commas_at_top_level_only() -> None:
    raw = " a:f(operation=x.y) ; b.c:G.h,d:e ;; "
    assert split_entries(raw) == ["a:f(operation=x.y)", "b.c:G.h", "d:e"]


def test_comma_inside_parentheses_does_not_split() -> None:
    assert split_entries("a:f(operation=x,y);b:g") == ["a:f(operation=x,y)", "b:g"]


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ("app.router.Router.handle", "expected 'module.path:Name.attr'"),
        ("app.router:", "expected 'module.path:Name.attr'"),
        (":handle", "expected 'module.path:Name.attr'"),
        ("app-router:handle", "expected 'module.path:Name.attr'"),
        ("app.router:Router.handle(operation=request.operation_type", "expected"),
        ("app:f(op=request.kind)", "inside the parentheses expected 'operation="),
        ("app:f(operation=)", "inside the parentheses"),
        ("app:f(operation=1st.x)", "inside the parentheses"),
        ("app:f()", "inside the parentheses"),
    ],
)
def test_bad_entries_are_named_in_the_error(entry: str, complaint: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_entry(entry)
    assert repr(entry) in str(info.value)
    assert complaint in str(info.value)


def test_bad_entries_do_not_stop_good_ones() -> None:
    targets, errors = parse_targets("good:f;bad entry;also.good:C.m(operation=r.t)")
    assert [t.entry for t in targets] == ["good:f", "also.good:C.m(operation=r.t)"]
    assert len(errors) == 1 and "'bad entry'" in str(errors[0])


def test_empty_declaration_declares_nothing() -> None:
    assert parse_targets("") == ([], [])
    assert parse_targets(" ; , ") == ([], [])
