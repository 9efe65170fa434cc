"""The package's layout holds as docs/architecture.md describes it.

Imports are read from the source (every `import` statement, those inside
functions too), not by importing: a loop that only a lazy import hides is
still a loop.
"""

import ast
import pathlib

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "minibert"
# Lowest first: a module may import its own layer's modules and lower ones,
# never a higher layer's (docs/architecture.md, "One direction").
LAYERS = [
    {"termination", "allocator", "reporting"},
    {"data"},
    {"layers"},
    {"models"},
    {"objectives"},
    {"config"},
    {"runs"},
    {"inspection", "tasks", "scoring", "export", "utilization"},
    {"training"},
    {"bench", "cli", "__main__", "minibert"},
]


def _module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, pathlib.Path]:
    return {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: pathlib.Path, modules) -> set[str]:
    """The minibert modules that `path` imports, anywhere in the file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from minibert.x import y`: the module minibert.x.y if there is one.
            names = [
                f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules
                else node.module
                for alias in node.names
            ]
        else:
            continue
        found.update(name for name in names if name in modules)
    return found


def _graph():
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def _layer(module: str) -> int:
    parts = module.split(".")
    key = parts[1] if len(parts) > 1 else parts[0]
    return next(index for index, names in enumerate(LAYERS) if key in names)


def _cycle(graph):
    """One import loop of `graph` as a list of modules, or None."""
    state = {}  # module -> "open" while on the current path, "done" after

    def visit(module, path):
        state[module] = "open"
        for imported in sorted(graph[module]):
            if state.get(imported) == "open":
                return path[path.index(imported):] + [imported]
            if imported not in state:
                found = visit(imported, path + [imported])
                if found:
                    return found
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module, [module])
            if found:
                return found
    return None


def test_the_walk_finds_the_imports_it_checks():
    graph = _graph()
    assert "minibert.training.recipe" in graph["minibert.training"]
    assert "minibert.data.tables" in graph["minibert.data.sources"]
    # A function-level import counts as much as a top-level one.
    assert "minibert.inspection.plots" in graph["minibert.cli.commands"]


def test_the_cycle_finder_finds_a_loop():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_of_minibert_imports_itself_back():
    assert _cycle(_graph()) is None


def test_every_module_belongs_to_a_layer_and_imports_none_above_it():
    wrong = [
        f"{module} (layer {_layer(module)}) imports {imported} (layer {_layer(imported)})"
        for module, imported_modules in _graph().items()
        for imported in imported_modules
        if _layer(imported) > _layer(module)
    ]
    assert not wrong, wrong
