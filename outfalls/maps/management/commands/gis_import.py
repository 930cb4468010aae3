"""Import reference data from a GIS file (the same judge-then-commit pipeline as /gis/import/)."""

from django.core.management.base import BaseCommand, CommandError

from outfalls.maps import gis_services
from outfalls.maps.gis_services import GisImportError, ImportKind, Mapping
from outfalls.registry.choices import ProtectedAreaKind


class Command(BaseCommand):
    help = (
        "Import protected areas, receiving-water geometry, sections or jurisdiction boundaries from a zipped "
        "Shapefile, GeoPackage, KML/KMZ or GeoJSON. Attributes default to the usual names (名称/NAME, "
        "代码/CODE, 类型, 所在水体, 级别). Every row is judged first; any error writes nothing and exits 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--kind", required=True, choices=ImportKind.values)
        parser.add_argument("--crs", help="the file's CRS when it has none (or to override it), e.g. 4547")
        parser.add_argument("--encoding", choices=["UTF-8", "GBK"], help="Shapefile attribute encoding")
        parser.add_argument("--layer", help="read only this layer")
        parser.add_argument("--name-field")
        parser.add_argument("--code-field")
        parser.add_argument("--kind-field", help="protected areas: the attribute holding the kind")
        parser.add_argument(
            "--fixed-kind", choices=ProtectedAreaKind.values, help="protected areas: one kind for every row"
        )
        parser.add_argument("--water-field", help="sections: the attribute holding the water body")
        parser.add_argument("--level-field", help="sections: the attribute holding the level")
        parser.add_argument("--target-field", help="water zones: the attribute holding the target class")
        parser.add_argument("--assessed-field", help="water zones: the latest assessed class")
        parser.add_argument("--date-field", help="water zones: the date of that assessment")
        parser.add_argument("--source", help="written to the rows' source field")
        parser.add_argument("--dry-run", action="store_true", help="judge every row, change nothing")

    def handle(self, *args, **options):
        path = options["file"]
        try:
            dataset = gis_services.load_dataset(
                path, crs=options["crs"], encoding=options["encoding"], layer=options["layer"]
            )
        except GisImportError as error:
            raise CommandError(error.message)
        guessed = gis_services.guess_mapping(options["kind"], dataset.fields)
        mapping = Mapping(
            name_field=options["name_field"] or guessed.name_field,
            code_field=options["code_field"] or guessed.code_field,
            kind_field=options["kind_field"] or ("" if options["fixed_kind"] else guessed.kind_field),
            fixed_kind=options["fixed_kind"] or "",
            water_field=options["water_field"] or guessed.water_field,
            level_field=options["level_field"] or guessed.level_field,
            target_field=options["target_field"] or guessed.target_field,
            assessed_field=options["assessed_field"] or guessed.assessed_field,
            date_field=options["date_field"] or guessed.date_field,
            source=options["source"] or "",
        )
        name = path.rsplit("/", 1)[-1]
        plan = gis_services.plan_import(dataset, options["kind"], mapping, filename=name)
        layers = "；".join(f"{layer.name} {layer.count} 个" for layer in dataset.layers)
        encoding = f"，属性编码 {dataset.encoding}" if dataset.encoding else ""
        self.stdout.write(
            f"{name}：{len(dataset.features)} 个要素（{layers}），坐标系 {dataset.crs_name}{encoding}"
        )
        used = {k: v for k, v in vars(mapping).items() if v and k != "source"}
        self.stdout.write("属性：" + "，".join(f"{k}={v}" for k, v in used.items()))
        for warning in dataset.warnings:
            self.stdout.write(f"注意：{warning}")
        self.stdout.write(
            f"{plan.kind_label}：" + "，".join(f"{label} {n}" for label, n in plan.counts.items())
        )
        for note in plan.notes:
            self.stdout.write(note)
        for row in plan.rows:
            if row.action in ("error", "skip") or row.messages:
                self.stdout.write(
                    f"{row.label}（{row.name or '—'}）{row.action_label}：{'；'.join(row.messages)}"
                )
        for problem in plan.problems:
            self.stdout.write(problem)
        if plan.problems or plan.errors:
            raise CommandError(f"有 {len(plan.errors) + len(plan.problems)} 处错误，未写入任何数据。")
        if options["dry_run"]:
            self.stdout.write("试运行：未写入任何数据。")
            return
        try:
            counts = gis_services.commit_import(plan)
        except GisImportError as error:
            raise CommandError(error.message)
        summary = "，".join(f"{label} {n}" for label, n in counts.items())
        self.stdout.write(self.style.SUCCESS(f"已导入：{summary}。"))
