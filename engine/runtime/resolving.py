"""Finding the definition a run executes: code workflows now, graph workflows through a resolver."""

from collections.abc import Callable
from dataclasses import dataclass

from engine.core.definitions import WorkflowDefinition, get_workflow


class UnknownWorkflow(LookupError):
    def __init__(self, slug: str) -> None:
        self.slug = slug
        super().__init__(f"workflow: no workflow called {slug!r}")


@dataclass(frozen=True)
class Resolved:
    definition: WorkflowDefinition
    kind: str
    version: str


Resolver = Callable[[str, str | None], Resolved | None]
"""(slug, version or None for the current one) → the definition, or None if unknown."""

_resolvers: list[Resolver] = []


def register_resolver(resolver: Resolver) -> None:
    """Let another kind of definition (graphs) be run by the engine without it knowing them."""
    if resolver not in _resolvers:
        _resolvers.append(resolver)


def resolve(slug: str, version: str | None = None) -> Resolved:
    code = get_workflow(slug)
    if code is not None:
        return Resolved(code, "code", code.version)
    for resolver in _resolvers:
        found = resolver(slug, version)
        if found is not None:
            return found
    raise UnknownWorkflow(slug)
