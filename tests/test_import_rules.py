"""The house rules of the code, as a test over the import graph (grimp reads the source).

Layers, top to bottom: the screens, the API and the admin (``flow``, ``api``, ``admin``) →
services and selectors → the live check (``verification``) → auth schemes (``schemes``) →
the outbound client (``outbound``); ``security`` and ``http`` are tools any layer may use;
``catalog`` is data at the bottom. Nothing imports upward, and there is no import circle.
"""

from __future__ import annotations

import sys
from functools import cache

import grimp
import pytest

from tests.conftest import ROOT

C = "connections."
SCREENS = ["flow", "api", "admin"]
DOMAIN = [*SCREENS, "services", "selectors", "tasks", "verification", "schemes"]
# Each package, and what it must never reach, directly or through others.
NEVER_REACHES = {
    "services": SCREENS,
    "selectors": [*SCREENS, "services", "tasks"],
    "verification": [*SCREENS, "services", "selectors", "tasks"],
    "schemes": [*SCREENS, "services", "selectors", "tasks", "verification"],
    "outbound": [*DOMAIN, "security", "http", "models"],
    "security": [*DOMAIN, "outbound", "http"],
    "http": DOMAIN,
}


@cache
def graph() -> grimp.ImportGraph:
    sys.path.insert(0, str(ROOT))
    return grimp.build_graph("connections", "catalog", "config")


def chain(importer: str, imported: str) -> tuple[str, ...] | None:
    return graph().find_shortest_chain(importer=importer, imported=imported, as_packages=True)


@pytest.mark.parametrize(
    ("low", "high"), [(low, high) for low, highs in NEVER_REACHES.items() for high in highs]
)
def test_nothing_imports_upward(low, high):
    assert chain(C + low, C + high) is None


def test_the_catalog_is_data_that_knows_nothing_of_connections():
    assert chain("catalog", "connections") is None


def direct_imports(package: str) -> dict[str, set[str]]:
    modules = graph().find_descendants(package) | {package}
    return {m: graph().find_modules_directly_imported_by(m) for m in modules}


def test_screens_never_send_requests_nor_touch_secrets_themselves():
    """A step of a scheme (``flow/steps``) may use ``security``; the screens go through
    services for both."""
    for module, imported in direct_imports(C + "flow").items():
        if module.startswith(C + "flow.steps"):
            continue
        forbidden = {i for i in imported if i.startswith((C + "security", C + "outbound.client"))}
        assert not forbidden, module


def test_the_api_never_calls_remote_systems_directly():
    remote = (C + "outbound", C + "schemes", C + "verification")
    for module, imported in direct_imports(C + "api").items():
        assert not {i for i in imported if i.startswith(remote)}, module


def test_admin_pages_import_only_the_admin_base():
    for module, imported in direct_imports(C + "admin").items():
        if module == C + "admin":
            continue  # the package imports every page to register it
        pages = {i for i in imported if i.startswith(C + "admin.")}
        assert pages <= {C + "admin.base", C + "admin.login", C + "admin.rows"}, module


def test_services_send_tasks_by_name():
    for module, imported in direct_imports(C + "services").items():
        assert C + "tasks" not in imported, module


def test_there_is_no_import_circle():
    modules = {m for m in graph().modules if m.startswith(("connections", "catalog"))}
    edges = {m: graph().find_modules_directly_imported_by(m) & modules for m in modules}
    circles = [group for group in strongly_connected(edges) if len(group) > 1]
    assert not circles


def strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (the graph is deeper than Python's recursion likes)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(group)
    return groups


def test_the_circle_finder_finds_a_circle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert sorted(map(sorted, strongly_connected(edges))) == [["a", "b", "c"], ["d"]]


def test_no_import_is_hidden_in_a_function_to_dodge_a_circle():
    """Function-level imports of our own code are allowed only where Django wants them
    (``AppConfig.ready``), so a circle cannot hide behind one."""
    allowed = {ROOT / "connections" / "apps.py", ROOT / "catalog" / "apps.py"}
    found = []
    for path in [*(ROOT / "connections").rglob("*.py"), *(ROOT / "catalog").rglob("*.py")]:
        if path in allowed or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.startswith((" ", "\t")) and line.strip().startswith(
                ("from connections", "from catalog", "import connections", "import catalog")
            ):
                found.append(f"{path.relative_to(ROOT)}:{number}")
    assert not found
