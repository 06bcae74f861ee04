"""Graph workflows: the JSON format the canvas edits, its validation, and the interpreter that
runs a published graph on the durable engine, every node a journaled step."""
