from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.middleware import role_not_required

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", role_not_required(auth_views.LogoutView.as_view()), name="logout"),
]
