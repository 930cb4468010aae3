from django.db import models


class JurisdictionLevel(models.TextChoices):
    CITY = "city", "市"
    COUNTY = "county", "县区"
    ZONE = "zone", "开发区"
    TOWN = "town", "乡镇（街道）"
    VILLAGE = "village", "村（社区）"


# County-level jurisdictions: what a county officer's scope and an outfall's 县区 column point at.
COUNTY_LEVELS = (JurisdictionLevel.COUNTY, JurisdictionLevel.ZONE)


class Role(models.TextChoices):
    CITY_ADMIN = "city_admin", "市级管理员"
    BUREAU = "bureau", "市生态环境局"
    COUNTY = "county", "县区/分局"
    DEPARTMENT = "department", "市直部门"
    ENTITY = "entity", "责任主体"
    RIVER_CHIEF = "river_chief", "河长"
    AUDITOR = "auditor", "只读审计"


# Roles that see the whole city.
CITYWIDE_ROLES = (Role.CITY_ADMIN, Role.BUREAU, Role.AUDITOR)
# Roles that may change ledger rows within what they see.
EDITING_ROLES = (Role.CITY_ADMIN, Role.BUREAU, Role.COUNTY, Role.DEPARTMENT, Role.ENTITY)


class AttachmentKind(models.TextChoices):
    PHOTO_CLOSE = "photo_close", "近景照片"
    PHOTO_DISTANT = "photo_distant", "远景照片"
    PHOTO_UNIT = "photo_unit", "责任单位照片"
    PHOTO_AFTER = "photo_after", "整治后照片"
    DOCUMENT = "document", "文件资料"
    OTHER = "other", "其他"


PHOTO_KINDS = (
    AttachmentKind.PHOTO_CLOSE,
    AttachmentKind.PHOTO_DISTANT,
    AttachmentKind.PHOTO_UNIT,
    AttachmentKind.PHOTO_AFTER,
)


class Milestone(models.TextChoices):
    """The plan's deadlines (同政办发〔2023〕8号): the full count with responsible entities, then rectification."""

    BASELINE = "baseline", "查清底数、明确责任主体"
    RECTIFICATION = "rectification", "完成整治"
    # The three reports every county, 经开区 and department sends (实施方案（十四）; reports/statutory.py).
    REPORT_SURVEY = "report_survey", "报送排查溯源工作开展情况报告"
    REPORT_PROGRESS = "report_progress", "报送规范整治工作进展情况报告"
    REPORT_SUMMARY = "report_summary", "报送规范整治工作总结报告"


class LoginChannel(models.TextChoices):
    """Where a login was tried."""

    WEB = "web", "网页登录"
    ADMIN = "admin", "管理后台"
    API = "api", "接口令牌"


class LoginOutcome(models.TextChoices):
    SUCCESS = "success", "成功"
    FAILURE = "failure", "失败"
    LOCKED = "locked", "失败（已锁定）"


class JobStatus(models.TextChoices):
    """A background job (core.Job): waiting for a worker, running, done, or failed (and retryable)."""

    QUEUED = "queued", "排队中"
    RUNNING = "running", "处理中"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "失败"


class JobKind(models.TextChoices):
    """The long pieces of work that run on the task queue (core/jobs.py); each app registers its own."""

    LEDGER_PREVIEW = "ledger_preview", "台账导入：解析与预览"
    LEDGER_COMMIT = "ledger_commit", "台账导入：写入台账"
    GIS_IMPORT = "gis_import", "GIS 基础数据导入"
    RULE_RUN = "rule_run", "运行整治规则"
    SPATIAL_CHECK = "spatial_check", "批量空间检查"
    NOTICE = "notice", "生成整治通报"
    SAMPLE_IMPORT = "sample_import", "检测数据导入"
    EVALUATE = "evaluate", "超标判定"
    EXCEEDANCE_NOTICE = "exceedance_notice", "生成超标通报"
    LOADS = "loads", "计算污染物负荷"
    SIGN_BATCH = "sign_batch", "批量生成标识牌"


class FollowUp(models.TextChoices):
    """What a record led to, kept as a status-change row (field "action") on the record: a citizen report that
    became a tracing case, a field point or an enforcement case."""

    TRACING_CASE = "tracing_case", "已立案溯源"
    FIELD_POINT = "field_point", "已转为现场核查点"
    ENFORCEMENT_CASE = "enforcement_case", "已立案查处"
