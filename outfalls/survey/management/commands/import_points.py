"""manage.py import_points CAMPAIGN_ID FILE [--crs cgcs2000|wgs84|gcj02|bd09] [--source uav|remote_sensing]
[--user USERNAME]: the same all-or-nothing import as the campaign page (survey/point_import.py)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from outfalls.geo.coords import CRS
from outfalls.survey.choices import PointSource
from outfalls.survey.models import Campaign
from outfalls.survey.point_import import import_points


class Command(BaseCommand):
    help = "Import level-1 suspected points (CSV, GeoJSON or KML) into a campaign; all or nothing."

    def add_arguments(self, parser):
        parser.add_argument("campaign_id", type=int)
        parser.add_argument("file")
        parser.add_argument("--crs", default="cgcs2000", choices=[c.value for c in CRS])
        parser.add_argument(
            "--source",
            default=PointSource.UAV.value,
            choices=[PointSource.UAV.value, PointSource.REMOTE_SENSING.value, PointSource.REPORT.value],
        )
        parser.add_argument(
            "--user", default=None, help="Import as this user (default: the first active superuser)."
        )

    def handle(self, *args, campaign_id, file, crs, source, user, **options):
        try:
            campaign = Campaign.objects.select_related("county").get(pk=campaign_id)
        except Campaign.DoesNotExist:
            raise CommandError(f"排查任务 {campaign_id} 不存在。")
        users = get_user_model().objects.filter(is_active=True)
        account = (
            users.filter(username=user).first()
            if user
            else users.filter(is_superuser=True).order_by("pk").first()
        )
        if account is None:
            raise CommandError(
                f"用户 {user} 不存在。" if user else "没有可用的超级用户，请用 --user 指定导入人。"
            )
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"文件不存在：{file}")
        with path.open("rb") as handle:
            try:
                result = import_points(
                    campaign,
                    File(handle, name=path.name),
                    user=account,
                    filename=path.name,
                    crs=crs,
                    source=source,
                )
            except PermissionDenied as error:
                raise CommandError(str(error))
        if result.errors:
            raise CommandError("未导入任何疑似点：\n" + "\n".join(result.errors))
        self.stdout.write(
            f"已导入 {len(result.created)} 个疑似点，{len(result.skipped)} 个编号已存在未重复导入。"
        )
