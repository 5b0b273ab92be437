"""Sign-in, ahead of Django's auth views (coprod_site/urls.py): it keeps their URL name,
`login`, so it has no app namespace."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.sign_in, name="login"),
]
