from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "outfalls.portal"
    label = "portal"
    verbose_name = "公众公开与举报"
