from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "engine"
    verbose_name = "Engine"

    def ready(self) -> None:
        import importlib

        from django.conf import settings
        from django.utils.module_loading import autodiscover_modules

        from engine import sweepers
        from engine.core.definitions import register_step_resolver
        from engine.definitions import register_resolver
        from engine.graph.resolver import resolve_graph, resolve_graph_step
        from engine.timers import register_sweeper

        register_sweeper("timers", sweepers.fire_due_timers)
        register_sweeper("debounce", sweepers.start_due_debounces)
        register_sweeper("recovery", sweepers.redispatch_lost_work)
        register_resolver(resolve_graph)
        register_step_resolver(resolve_graph_step)
        # Code workflows register themselves when their modules are imported.
        autodiscover_modules("workflows")
        for module in getattr(settings, "STEPWISE_WORKFLOW_MODULES", []):
            importlib.import_module(module)
