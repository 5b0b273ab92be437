from django.urls import path
from django.views.generic import TemplateView

app_name = "initiatives"

urlpatterns = [
    path("", TemplateView.as_view(template_name="initiatives/home.html"), name="home"),
]
