"""WebSocket consumers. Every socket needs a logged-in user."""

from typing import Any

from channels.generic.websocket import AsyncJsonWebsocketConsumer


class PingConsumer(AsyncJsonWebsocketConsumer):  # type: ignore[misc]
    """Answers {"type": "ping"} with a pong relayed through the channel layer.

    The relay makes the reply cross the channel layer (Redis in production), so a pong proves
    the whole live-update path, not only the socket.
    """

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close()
            return
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "ping":
            await self.send_json({"type": "error", "detail": 'send {"type": "ping"}'})
            return
        await self.channel_layer.send(
            self.channel_name, {"type": "pong.relay", "id": content.get("id")}
        )

    async def pong_relay(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "pong", "id": message.get("id"), "user": self.scope["user"].get_username()}
        )
