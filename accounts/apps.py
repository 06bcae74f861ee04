from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    label = "accounts"
    verbose_name = "Accounts and API tokens"

    def ready(self) -> None:
        # Connects the signal receivers that count failed logins and clear them on success.
        from accounts import login_throttle  # noqa: F401
