from django.apps import AppConfig


class EngineConfig(AppConfig):
    name = "engine"
    verbose_name = "Engine"

    def ready(self) -> None:
        # Imported here, not at the top: the engine's modules use models, which need the app
        # registry this method is called after.
        import importlib

        from django.conf import settings
        from django.utils.module_loading import autodiscover_modules

        from engine.core.context import register_step_guard
        from engine.core.definitions import register_step_resolver
        from engine.core.human import register_task_service
        from engine.core.triggers import register_emitter
        from engine.graph.resolver import resolve_graph, resolve_graph_step
        from engine.human import DjangoTaskService
        from engine.human.settled import register_settled_hook
        from engine.inbound import schedule_sync, schedules, webhooks
        from engine.inbound.events import emit_from_code, register_event_listener
        from engine.machines import nodes  # noqa: F401 - registers the machine node types
        from engine.machines.applying import resolve_apply_workflow
        from engine.machines.decisions import deliver_decision
        from engine.machines.listening import deliver_to_instances
        from engine.machines.timers import (
            fire_due_machine_timers,
            free_stalled_queues,
            next_machine_timer_due,
        )
        from engine.resilience.bulkheads import release_lapsed_slots
        from engine.resilience.guard import guard_step
        from engine.runtime import sweepers
        from engine.runtime.resolving import register_resolver
        from engine.runtime.retention import Retention, RetentionSweeper
        from engine.runtime.rollup_rebuild import compact_rollups_now_and_then
        from engine.runtime.timers import (
            RECOVERY_SECONDS,
            register_next_due,
            register_on_start,
            register_sweeper,
        )
        from engine.runtime.tracing import install_tracing

        register_sweeper("timers", sweepers.fire_due_timers)
        register_next_due("timers", sweepers.next_timer_due)
        register_sweeper("debounce", sweepers.start_due_debounces)
        register_next_due("debounce", sweepers.next_debounce_due)
        recovery = RECOVERY_SECONDS
        register_sweeper("recovery", sweepers.redispatch_lost_work, at_most_every=recovery)
        register_sweeper("bulkheads", release_lapsed_slots, at_most_every=recovery)
        register_sweeper("webhooks", webhooks.process_waiting_deliveries, at_most_every=recovery)
        register_emitter(emit_from_code)
        register_task_service(DjangoTaskService())
        register_sweeper("schedules", schedules.fire_due_schedules)
        register_on_start("schedules", schedule_sync.sync_declared_schedules)
        register_resolver(resolve_graph)
        register_resolver(resolve_apply_workflow)
        register_sweeper("machine-timers", fire_due_machine_timers)
        register_next_due("machine-timers", next_machine_timer_due)
        register_sweeper("machine-queues", free_stalled_queues, at_most_every=recovery)
        Retention.from_settings()  # a malformed override stops the start, naming the row
        register_sweeper("retention", RetentionSweeper())
        install_tracing()  # only when STEPWISE_OTEL_EXPORTER names an exporter
        register_sweeper("rollups", compact_rollups_now_and_then)
        register_event_listener(deliver_to_instances)
        register_settled_hook(deliver_decision)
        register_step_resolver(resolve_graph_step)
        register_step_guard(guard_step)
        # Code workflows register themselves when their modules are imported.
        autodiscover_modules("workflows")
        for module in getattr(settings, "STEPWISE_WORKFLOW_MODULES", []):
            importlib.import_module(module)
