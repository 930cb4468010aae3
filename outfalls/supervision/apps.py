from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "outfalls.supervision"
    label = "supervision"
    verbose_name = "执法监督"

    def load_demo(self, stdout):
        from .demo import load_demo

        load_demo(stdout=stdout)
