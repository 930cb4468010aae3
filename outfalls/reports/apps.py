from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "outfalls.reports"
    label = "reports"
    verbose_name = "工作台与报告"
