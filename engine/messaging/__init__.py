"""How the engine speaks: messages to workers through the broker (dispatch) and announcements
to listeners in this process after commit (signals). Everything else builds on these, so they
import nothing of the engine but its models."""
