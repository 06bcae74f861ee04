"""engine.core is plain Python: no module in it imports Django or a part of the engine outside
engine.core, so workflows can be written and tested without either. The check reads each
file's syntax tree, so an import inside a function or under TYPE_CHECKING counts too."""

import ast
from pathlib import Path

import engine.core

CORE = Path(engine.core.__file__).parent


def forbidden_imports(source: str, package: str = "engine.core") -> list[str]:
    """What `source` (a module of `package`) imports from Django or from the engine outside
    `package`, each as `line: dotted name`, in line order."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            # `from engine import core` is inside core, `from engine import models` is not.
            module = _absolute(node, package)
            names = [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            inside = name == package or name.startswith(package + ".")
            if top == "django" or (top == "engine" and not inside):
                found.append((node.lineno, name))
    return [f"{line}: {name}" for line, name in sorted(found)]


def _absolute(node: ast.ImportFrom, package: str) -> str:
    """The module an ImportFrom names, with relative imports resolved from `package`."""
    if node.level == 0:
        return node.module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def test_no_core_module_imports_django_or_the_rest_of_the_engine() -> None:
    """Every file under engine/core passes the check."""
    modules = sorted(CORE.rglob("*.py"))
    assert len(modules) > 10  # the walk found the package
    problems = {
        str(path.relative_to(CORE)): found
        for path in modules
        if (found := forbidden_imports(path.read_text(encoding="utf-8")))
    }
    assert problems == {}


def test_the_check_catches_a_forbidden_import() -> None:
    """Django, the engine outside core and relative imports that leave core are all caught,
    wherever they are written; imports within core and of other libraries are not."""
    source = (
        "import json\n"
        "import cel\n"
        "from engine.core.errors import DefinitionError\n"
        "from . import values\n"
        "from .journal import Entry\n"
        "import django.db\n"
        "from django.conf import settings\n"
        "from engine.models import Run\n"
        "from .. import runtime\n"
        "from ..graph.format import Graph\n"
        "from engine import core, models\n"
        "def later() -> None:\n"
        "    from engine.runtime.store import DatabaseBackend\n"
        "if TYPE_CHECKING:\n"
        "    import engine.runtime.runner\n"
    )
    assert forbidden_imports(source) == [
        "6: django.db",
        "7: django.conf.settings",
        "8: engine.models.Run",
        "9: engine.runtime",
        "10: engine.graph.format.Graph",
        "11: engine.models",
        "13: engine.runtime.store.DatabaseBackend",
        "15: engine.runtime.runner",
    ]
