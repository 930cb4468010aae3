from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "outfalls.core"
    label = "core"
    verbose_name = "基础数据与权限"
