"""State machines in the engine: their validation (validate), publishing (publishing),
instances and the events applied to them one at a time (instances, applying), and delayed
transitions (timers). The definition's shape and what an event does to it are plain Python in
engine.core.machines."""
