"""The app's registration with Django (templates are found through it)."""

from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "invindex.web"
    label = "invindex_web"
    verbose_name = "invindex search site"
