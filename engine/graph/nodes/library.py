"""Importing this module registers every node type of the library."""

import engine.graph.nodes.ai
import engine.graph.nodes.email
import engine.graph.nodes.flow
import engine.graph.nodes.http
import engine.graph.nodes.human
import engine.graph.nodes.logic
import engine.graph.nodes.python_action
import engine.graph.nodes.records
import engine.graph.nodes.triggers  # noqa: F401
