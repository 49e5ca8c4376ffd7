"""The formula grammar: every lme4 form the app offers, and refusal of anything else."""
import pytest

from mmcore import FormulaError, fit, load_dataset, parse_formula


def terms(text):
    f = parse_formula(text)
    return f.fixed.intercept, f.fixed.terms, [(r.lhs.intercept, r.lhs.terms, r.group_name) for r in f.random]


@pytest.mark.parametrize("text,expected", [
    ("y ~ x + (1|g)", (True, (("x",),), [(True, (), "g")])),
    ("y ~ x*f + (x|g)", (True, (("x",), ("f",), ("x", "f")), [(True, (("x",),), "g")])),
    ("y ~ 0 + x + (0 + x|g)", (False, (("x",),), [(False, (("x",),), "g")])),
    ("y ~ x - 1 + (1|g)", (False, (("x",),), [(True, (), "g")])),
    ("y ~ x + (x||g)", (True, (("x",),), [(True, (), "g"), (False, (("x",),), "g")])),
    ("y ~ 1 + (1|a/b)", (True, (), [(True, (), "a"), (True, (), "b:a")])),
    ("y ~ 1 + (1|a:b)", (True, (), [(True, (), "a:b")])),
    ("y ~ 1 + (1|a) + (1|b)", (True, (), [(True, (), "a"), (True, (), "b")])),
    ("y ~ x:f + f + (1|g)", (True, (("f",), ("x", "f")), [(True, (), "g")])),
    ("y ~ a*b*c + (1|g)", (True, (("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c"), ("a", "b", "c")),
                          [(True, (), "g")])),
    ("y~x+(1|g)", (True, (("x",),), [(True, (), "g")])),
])
def test_forms(text, expected):
    assert terms(text) == expected


def test_backticks_for_names_with_spaces_and_accents():
    f = parse_formula("`reaction time` ~ `días` + (1 | `sujeto id`)")
    assert f.response == "reaction time" and f.fixed.terms == (("días",),) and f.random[0].group_name == "sujeto id"
    d = load_dataset("sleepstudy").rename(columns={"Reaction": "reaction time", "Days": "días", "Subject": "sujeto id"})
    assert fit("`reaction time` ~ `días` + (1 | `sujeto id`)", d).fixef.index.tolist() == ["(Intercept)", "días"]


@pytest.mark.parametrize("text,words", [
    ("", "empty"),
    ("y x + (1|g)", "'~'"),
    ("y ~ ", "missing"),
    ("y ~ x + (1|)", "column name"),
    ("y ~ (x + 1) + (1|g)", "column name"),
    ("y ~ (x + (1|g))", "nested"),
    ("y ~ log(x) + (1|g)", "function call"),
    ('__import__("os").system("ls") ~ x', "function call"),
    ("y ~ x + (1|g) + 'quoted'", "cannot read"),
    ("y ~ x + open('f') + (1|g)", "function call"),
    ("y ~ x; import os", "cannot read"),
    ("y ~ x + 3 + (1|g)", "number 3"),
    ("y ~ x + (1|g", "ends too early"),
    ("y ~ x + (1|g) )", "did not expect"),
    ("y ~ x + ((1|g)|h)", "nested"),
    ("y ~ x +", "ends too early: a term is missing at the end"),
    ("y ~ (a + b", "never closed"),
])
def test_bad_formulas_raise_formula_error(text, words):
    with pytest.raises(FormulaError) as err:
        parse_formula(text)
    assert words in str(err.value)
    assert "'the end'" not in str(err.value)  # the end of a formula is not a token of it


@pytest.mark.parametrize("text", ["y ~ __import__ + (1|g)", "y ~ x.__class__ + (1|g)", "y ~ os.system + (1|g)",
                                  "Reaction ~ Days + (1|Subjct)", "reaction ~ Days + (1|Subject)"])
def test_names_that_are_not_columns_are_unknown_names(text):
    with pytest.raises(FormulaError) as err:
        fit(text, load_dataset("sleepstudy"))
    assert "not a column" in str(err.value) or "not columns" in str(err.value)


def test_a_formula_without_random_terms_is_refused_with_advice():
    with pytest.raises(FormulaError, match=r"\(1 \| group\)"):
        fit("Reaction ~ Days", load_dataset("sleepstudy"))


@pytest.mark.parametrize("text,terms", [
    ("y ~ (a + b) * c + (1|g)", [("a",), ("b",), ("c",), ("a", "c"), ("b", "c")]),
    ("y ~ a * (b + c) + (1|g)", [("a",), ("b",), ("c",), ("a", "b"), ("a", "c")]),
    ("y ~ (a + b):c + (1|g)", [("a", "c"), ("b", "c")]),
    ("y ~ (a + b) * (c + d) - a:d + (1|g)", [("a",), ("b",), ("c",), ("d",), ("a", "c"), ("b", "c"), ("b", "d")]),
    ("y ~ ((a)) + (1|g)", [("a",)]),
])
def test_parenthesised_fixed_effects_expand_as_r_does(text, terms):
    assert list(parse_formula(text).fixed.terms) == terms


def test_a_parenthesised_fixed_term_is_not_a_random_term():
    with pytest.raises(FormulaError, match="no random-effects term"):
        fit("Reaction ~ Days + (Days)", load_dataset("sleepstudy"))
