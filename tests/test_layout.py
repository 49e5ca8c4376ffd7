"""The house rules of the layout (DESIGN.md, "Layout"): app.py alone at the root, mmcore in
sub-packages whose imports point one way, the Streamlit glue in lab/, files a reader can hold."""
import ast
import re

from tests.conftest import ROOT

# What each part of mmcore may import from mmcore: the pipeline, in order. The engine never uses the
# lessons or the figures; the lessons never use the figures; nothing uses lab/ or streamlit. `fitting`
# (the top-level fit() that chooses an engine) sits above the engines.
MAY_IMPORT = {
    "errors": set(),
    "model": {"errors", "model"},
    "data": {"errors", "data"},
    "lmm": {"errors", "model", "lmm"},
    "glmm": {"errors", "model", "lmm", "glmm"},
    "inference": {"errors", "fitting", "model", "lmm", "glmm", "inference"},
    "lessons": {"errors", "fitting", "model", "lmm", "glmm", "inference", "data", "lessons"},
    "figures": {"errors", "fitting", "model", "lmm", "glmm", "inference", "data", "lessons", "figures"},
}


def _python_files(folder):
    return [p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts]


def _mmcore_imports(path) -> set[str]:
    """The mmcore parts (model, lmm, ...) a module imports, relative or absolute."""
    part_of = path.relative_to(ROOT / "mmcore").parts
    package = ["mmcore", *part_of[:-1]]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
            else:
                target = (node.module or "").split(".")
            if target[:1] == ["mmcore"] and len(target) > 1:
                found.add(target[1])
            elif target == ["mmcore"]:
                found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "mmcore" and len(parts) > 1:
                    found.add(parts[1])
    return found


def test_app_py_is_the_only_python_file_at_the_root():
    assert sorted(p.name for p in ROOT.glob("*.py")) == ["app.py"]


def test_mmcore_is_a_few_modules_and_several_subpackages():
    modules = [p for p in (ROOT / "mmcore").glob("*.py")]
    packages = [p for p in (ROOT / "mmcore").iterdir() if (p / "__init__.py").exists()]
    assert len(modules) <= 12, modules
    assert len(packages) >= 3, packages
    for package in packages:  # each says what it holds
        doc = ast.get_docstring(ast.parse((package / "__init__.py").read_text()))
        assert doc and len(doc.splitlines()) <= 3, package


def test_no_python_file_outside_tests_is_over_450_lines():
    for folder in ("mmcore", "lab", "pages", "bench", "scripts"):
        for path in _python_files(folder):
            assert len(path.read_text().splitlines()) <= 450, path


def test_mmcore_imports_point_one_way_and_never_at_the_glue():
    for path in _python_files("mmcore"):
        text = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+(streamlit|lab)\b", text, re.M), path
        rel = path.relative_to(ROOT / "mmcore").parts
        if len(rel) == 1:
            continue  # __init__ (the contract) and errors
        allowed = MAY_IMPORT[rel[0]]
        assert _mmcore_imports(path) <= allowed, (path, _mmcore_imports(path) - allowed)



def test_every_page_has_its_frame_and_ends_through_it():
    """lab.page_start() first, lab.page_end() last, and lab.stop() (which runs the page's end: the link to
    the view, the next lesson, the progress kept) instead of st.stop(), after which nothing can be drawn."""
    for path in (ROOT / "pages").glob("*.py"):
        text = path.read_text()
        assert "lab.page_start()" in text and "lab.page_end()" in text, path.name
        assert not re.search(r"\bst\.stop\(\)", text), f"{path.name}: call lab.stop(), not st.stop()"
