"""Ledger imports: one record per uploaded attachment-1 table."""

from django.conf import settings
from django.db import models

from outfalls.core.scopes import own_or_citywide
from outfalls.geo.coords import CRS_CHOICES


class LedgerImportQuerySet(models.QuerySet):
    def visible_to(self, user):
        return own_or_citywide(self, user, "created_by")


class LedgerImport(models.Model):
    """One upload of an attachment-1 table: the file, who sent it, the preview, and what the commit did."""

    class Status(models.TextChoices):
        PENDING = "pending", "待解析"
        RUNNING = "running", "解析中"
        PREVIEWED = "previewed", "待确认"
        COMMITTING = "committing", "导入中"
        COMMITTED = "committed", "已导入"
        FAILED = "failed", "失败"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)
    file = models.FileField("原始文件", upload_to="imports/%Y/%m/", max_length=300)
    filename = models.CharField("文件名", max_length=200)
    crs = models.CharField("坐标系", max_length=12, default="cgcs2000")
    status = models.CharField("状态", max_length=12, choices=Status.choices, default=Status.PENDING)
    rows_total = models.PositiveIntegerField("数据行数", default=0)
    rows_done = models.PositiveIntegerField("已处理行数", default=0)
    counts = models.JSONField("各类行数", default=dict, blank=True)
    error = models.TextField("错误", blank=True)
    created_ids = models.JSONField("新建的排口", default=list, blank=True)
    updated_ids = models.JSONField("修改的排口", default=list, blank=True)
    created_unit_ids = models.JSONField("新建的排污单位", default=list, blank=True)
    committed_at = models.DateTimeField("导入时间", null=True, blank=True)
    # The dry run's verdicts for the commit, and the state they were judged against (ledger_verdicts).
    verdicts = models.FileField("预检结果", upload_to="imports/%Y/%m/", max_length=300, blank=True)
    verdicts_key = models.CharField("预检时的台账状态", max_length=64, blank=True)

    objects = LedgerImportQuerySet.as_manager()

    class Meta:
        verbose_name = "台账导入"
        verbose_name_plural = "台账导入"
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"台账导入 #{self.pk} {self.filename}"

    def report(self, action=""):
        """The per-row report (LedgerImportRow.data) in row order, of one action or of all: a query the
        import page pages through, never the whole report in memory."""
        rows = self.rows.order_by("row")
        if action:
            rows = rows.filter(action=action)
        return rows.values_list("data", flat=True)

    @property
    def crs_label(self):
        """The coordinate system as the import form named it (CGCS2000, GCJ-02（高德/腾讯）, ...)."""
        return dict(CRS_CHOICES).get(self.crs, self.crs)

    @property
    def history_reason(self):
        """The reason written on every history row the commit creates, so the outfall file links back."""
        return f"台账导入 #{self.pk}（{self.filename}）"


class LedgerImportRow(models.Model):
    """One row of an import's report: what the import page lists for it (ledger_rows.RowResult.as_json).
    Every row but those unchanged without a note; written in batches by ledger_import.store_report."""

    ledger_import = models.ForeignKey(LedgerImport, on_delete=models.CASCADE, related_name="rows")
    row = models.PositiveIntegerField("行号")
    action = models.CharField("结果", max_length=12)
    data = models.JSONField("内容")

    class Meta:
        verbose_name = "台账导入逐行结果"
        verbose_name_plural = "台账导入逐行结果"
        constraints = [
            models.UniqueConstraint(fields=["ledger_import", "row"], name="ledger_import_row_once")
        ]
        indexes = [models.Index(fields=["ledger_import", "action", "row"], name="ledger_import_row_action")]

    def __str__(self):
        return f"第 {self.row} 行"
