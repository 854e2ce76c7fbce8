"""The package's layers: imports only go down, and no two modules import each other (directly or
round a loop).

Every import in ``src/hotspots`` counts: module level and inside functions, ``from . import x``
and ``from ..y import z`` resolved against the importing module, ``importlib.import_module("...")``
and ``__import__("...")`` with a literal name, and tables of module names looked up at run time
(a string equal to a module's full dotted name, e.g. the subcommand table of the command line,
or the names a package ``__init__`` hands to ``import_module(f".{name}", __name__)``).

The layers, lowest first (a module may import its own layer or any layer below)::

    foundation  hotspots (the package __init__), errors, model, config, crs, vocabulary, announce, progress,
                _util, _csvsafe, textfile, writable, outfolder, heap, _numba_ready
    inputs      ingest, geo, demo
    library     analysis, coverage, forecast
    stages      stages
    tasking     tasking
    render      render
    pipeline    pipeline
    scale       scale
    cli         cli (and cli_args, its shared options)

One exception, and only for ``hotspots/__init__.py``: its table of lazily imported verbs
(``_EXPORTS``: ``"hotspot_kde": ("hotspots.analysis.density", ...)``) names the modules that
*provide* the top-level API. Those strings are the package's exports, resolved when a user asks
for ``hotspots.hotspot_kde``, not imports the foundation depends on, so they are not edges.
Real ``import`` statements in that file still count.

Run ``python tests/test_layering.py`` to print every offending edge as ``a.b -> c.d (line N)``.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "hotspots"

LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    (
        "foundation",
        frozenset(
            {
                "hotspots",
                "errors",
                "model",
                "config",
                "announce",
                "progress",
                "_util",
                "_csvsafe",
                "crs",
                "vocabulary",
                "textfile",
                "writable",
                "outfolder",
                "heap",
                "_numba_ready",
            }
        ),
    ),
    ("inputs", frozenset({"ingest", "geo", "demo"})),
    ("library", frozenset({"analysis", "coverage", "forecast"})),
    ("stages", frozenset({"stages"})),
    ("tasking", frozenset({"tasking"})),
    ("render", frozenset({"render"})),
    ("pipeline", frozenset({"pipeline"})),
    ("scale", frozenset({"scale"})),
    ("cli", frozenset({"cli", "cli_args"})),
)

#: The one file whose module-name strings are exports, not imports (see the module docstring).
EXPORT_TABLE_MODULES = frozenset({"hotspots"})


@dataclass(frozen=True)
class Edge:
    source: str  # dotted module name, e.g. "hotspots.analysis.trends"
    target: str
    line: int
    how: str  # "import", "import_module", "name table"

    def __str__(self) -> str:
        return f"{short(self.source)} -> {short(self.target)} (line {self.line})"


def short(module: str) -> str:
    """'analysis.trends' for 'hotspots.analysis.trends'; 'hotspots' for the package itself."""
    return module.split(".", 1)[1] if "." in module else module


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under the package folder ``root``."""
    pkg = root.name
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = (pkg, *path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def layer_of(module: str) -> int | None:
    """Index into LAYERS of a module (by its first name below the package), None when unplaced."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else parts[0]
    for i, (_name, members) in enumerate(LAYERS):
        if top in members:
            return i
    return None


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _relative_base(module: str, path: Path, level: int, name: str | None) -> str:
    pkg = _package_of(module, path).split(".")
    base = pkg[: len(pkg) - (level - 1)] if level > 1 else pkg
    return ".".join(base + ([name] if name else []))


def _dynamic_import(node: ast.Call) -> ast.expr | None:
    """The name argument of ``importlib.import_module(...)`` / ``import_module(...)`` / ``__import__(...)``."""
    fn = node.func
    fname = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
    return node.args[0] if fname in ("import_module", "__import__") and node.args else None


def _is_relative_fstring(arg: ast.expr) -> bool:
    """``f".{table[name]}"``: a package importing its own submodules by a table of names."""
    return (
        isinstance(arg, ast.JoinedStr)
        and bool(arg.values)
        and isinstance(arg.values[0], ast.Constant)
        and str(arg.values[0].value).startswith(".")
    )


def _named_imports(module: str, path: Path, tree: ast.AST, modules: dict[str, Path]):
    """(imported name, line, how) for import statements and literal import_module/__import__ calls;
    and whether the module imports its own submodules through a table of relative names."""
    found = []
    relative_table = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno, "import") for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _relative_base(module, path, node.level, node.module) if node.level else (node.module or "")
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.append((full if full in modules else base, node.lineno, "import"))
        elif isinstance(node, ast.Call) and (arg := _dynamic_import(node)) is not None:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                name = arg.value
                if name.startswith("."):
                    level = len(name) - len(name.lstrip("."))
                    name = _relative_base(module, path, level, name.lstrip(".") or None)
                found.append((name, node.lineno, "import_module"))
            relative_table = relative_table or _is_relative_fstring(arg)
    return found, relative_table


def _table_imports(module: str, path: Path, tree: ast.AST, modules: dict[str, Path], relative_table: bool):
    """(module name, line) for strings that name a module: full dotted names anywhere, and the
    plain submodule names of a package that imports ``f".{name}"``. Not for the export table."""
    if module in EXPORT_TABLE_MODULES:
        return []
    pkg_name = module.split(".")[0]
    pkg = _package_of(module, path)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        if node.value in modules and node.value.startswith(pkg_name + "."):
            found.append((node.value, node.lineno))
        elif relative_table and f"{pkg}.{node.value}" in modules:
            found.append((f"{pkg}.{node.value}", node.lineno))
    return found


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> tuple[list[Edge], list[str]]:
    """Every import edge out of one module, and the package's imports that name no module."""
    pkg_name = module.split(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    named, relative_table = _named_imports(module, path, tree, modules)
    tables = [(name, line, "name table") for name, line in _table_imports(module, path, tree, modules, relative_table)]
    edges: list[Edge] = []
    unresolved: list[str] = []
    for name, line, how in named + tables:
        if name != pkg_name and not name.startswith(pkg_name + "."):
            continue  # another package
        if name not in modules:
            unresolved.append(f"{short(module)} imports {name} (line {line}), which does not exist")
        elif name != module and Edge(module, name, line, how) not in edges:
            edges.append(Edge(module, name, line, how))
    return edges, unresolved


@dataclass(frozen=True)
class Report:
    edges: tuple[Edge, ...]
    upward: tuple[Edge, ...]  # imports against the layer order
    cycles: tuple[tuple[Edge, ...], ...]  # the edges inside each import loop
    unplaced: tuple[str, ...]  # modules in no layer
    unresolved: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not (self.upward or self.cycles or self.unplaced or self.unresolved)

    def text(self) -> str:
        lines = []
        if self.upward:
            lines.append(
                f"{len(self.upward)} import(s) against the layer order "
                f"({' -> '.join(n for n, _ in LAYERS)}, lowest first):"
            )
            for e in self.upward:
                lines.append(f"  {e}    [{LAYERS[layer_of(e.source)][0]} imports {LAYERS[layer_of(e.target)][0]}]")
        if self.cycles:
            lines.append(f"{len(self.cycles)} import cycle(s):")
            for cyc in self.cycles:
                mods = sorted({short(e.source) for e in cyc})
                lines.append("  cycle between " + ", ".join(mods) + ":")
                pairs = {(e.source, e.target) for e in cyc}
                for a, b in sorted(p for p in pairs if (p[1], p[0]) in pairs and p[0] < p[1]):
                    lines.append(f"    {short(a)} <-> {short(b)}")
                lines.extend(f"    {e}" for e in cyc)
        if self.unplaced:
            lines.append(
                "modules in no layer (add them to LAYERS in tests/test_layering.py): " + ", ".join(self.unplaced)
            )
        lines.extend(self.unresolved)
        return "\n".join(lines)


def _strongly_connected(nodes: list[str], succ: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the strongly connected components of the import graph."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[list[str]] = []
    counter = 0
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(succ.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(succ.get(w, ())))))
                    advanced = True
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                comps.append(sorted(comp))
    return comps


def check(root: Path = SRC) -> Report:
    modules = module_files(root)
    edges: list[Edge] = []
    unresolved: list[str] = []
    for module, path in modules.items():
        e, u = imports_of(module, path, modules)
        edges.extend(e)
        unresolved.extend(u)
    unplaced = tuple(sorted(short(m) for m in modules if layer_of(m) is None))
    upward = tuple(
        e
        for e in edges
        if None not in (layer_of(e.source), layer_of(e.target)) and layer_of(e.target) > layer_of(e.source)
    )
    succ: dict[str, set[str]] = {}
    for e in edges:
        succ.setdefault(e.source, set()).add(e.target)
    cycles = []
    for comp in _strongly_connected(sorted(modules), succ):
        if len(comp) > 1:
            members = set(comp)
            cycles.append(
                tuple(
                    sorted(
                        (e for e in edges if e.source in members and e.target in members),
                        key=lambda e: (e.source, e.target, e.line),
                    )
                )
            )
    return Report(tuple(edges), upward, tuple(cycles), unplaced, tuple(unresolved))


# --------------------------------------------------------------------------- the checker itself
def _write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


def test_checker_finds_every_kind_of_import(tmp_path):
    pkg = _write(
        tmp_path / "hotspots",
        {
            "__init__.py": '_EXPORTS = {"verb": ("hotspots.pipeline", "run")}\nimport hotspots.errors\n',
            "errors.py": "",
            "model.py": "def f():\n    from .geo import grid\n",  # function-level, upward
            "geo/__init__.py": "",
            "geo/grid.py": "from ..model import f\n",  # closes a loop with model
            "analysis/__init__.py": "",
            "analysis/a.py": "import importlib\n\ndef g():\n    return importlib.import_module('hotspots.pipeline')\n",
            "analysis/b.py": "from . import a\nfrom .. import errors\n",
            "forecast/__init__.py": (
                '_WHERE = {"x": "m"}\n\ndef __getattr__(n):\n    import importlib\n'
                '    return importlib.import_module(f".{_WHERE[n]}", __name__)\n'
            ),
            "forecast/m.py": "",
            "pipeline.py": "from .analysis import b\n",
            "cli.py": 'PLUGINS = ("hotspots.analysis.b",)\n\ndef main():\n    __import__("hotspots.pipeline")\n',
            "stray.py": "from .nothing import x\n",
        },
    )
    rep = check(pkg)
    got = {(short(e.source), short(e.target), e.line, e.how) for e in rep.edges}
    assert ("hotspots", "errors", 2, "import") in got
    assert not any(e.source == "hotspots" and e.target == "hotspots.pipeline" for e in rep.edges)  # exports
    assert ("model", "geo.grid", 2, "import") in got  # inside a function, `from .geo import grid`
    assert ("geo.grid", "model", 1, "import") in got
    assert ("analysis.a", "pipeline", 4, "import_module") in got
    assert ("analysis.b", "analysis.a", 1, "import") in got and ("analysis.b", "errors", 2, "import") in got
    assert ("forecast", "forecast.m", 1, "name table") in got
    assert ("cli", "analysis.b", 1, "name table") in got and ("cli", "pipeline", 4, "import_module") in got
    assert {str(e) for e in rep.upward} == {"model -> geo.grid (line 2)", "analysis.a -> pipeline (line 4)"}
    assert sorted(sorted({short(e.source) for e in c}) for c in rep.cycles) == [
        ["analysis.a", "analysis.b", "pipeline"],
        ["geo.grid", "model"],
    ]
    assert rep.unplaced == ("stray",)
    assert rep.unresolved == ("stray imports hotspots.nothing (line 1), which does not exist",)
    assert not rep.ok and "model -> geo.grid (line 2)" in rep.text()


def test_checker_passes_a_layered_package(tmp_path):
    pkg = _write(
        tmp_path / "hotspots",
        {
            "__init__.py": '_EXPORTS = {"run": ("hotspots.pipeline", "run")}\n',
            "errors.py": "",
            "config.py": "from .errors import *\n",
            "geo/__init__.py": "",
            "geo/grid.py": "from ..errors import *\n",
            "analysis/__init__.py": "",
            "analysis/g.py": "from ..geo.grid import *\nfrom ..config import *\n",
            "coverage/__init__.py": "",
            "coverage/c.py": "from ..analysis import g\n",
            "pipeline.py": "def run():\n    from .coverage import c\n",
            "cli/__init__.py": "from .. import pipeline\n",
        },
    )
    rep = check(pkg)
    assert rep.ok, rep.text()
    assert len(rep.edges) == 7


def test_imports_go_down_the_layers_without_cycles():
    rep = check(SRC)
    print(rep.text())
    assert rep.ok, "\n" + rep.text()


if __name__ == "__main__":
    report = check(Path(sys.argv[1]) if len(sys.argv) > 1 else SRC)
    print(report.text() or "layering ok: imports only go down, no cycles")
    sys.exit(0 if report.ok else 1)
