"""Who sees what: one place that turns a user's memberships into a scope.

Every model a user can see has a queryset method `visible_to(user)` (and `editable_by(user)`), and each
of them reads the scope from here. Views, the API, exports and reports start from those methods.
"""

from dataclasses import dataclass, field

from django.db.models import Q

from .choices import CITYWIDE_ROLES, EDITING_ROLES, Role


@dataclass(frozen=True)
class Grant:
    """One membership, reduced to the ids it covers."""

    role: str
    county_id: int | None = None
    department_id: int | None = None
    department_types: frozenset = frozenset()
    unit_id: int | None = None
    water_body_ids: frozenset = frozenset()

    @property
    def citywide(self):
        return self.role in CITYWIDE_ROLES

    @property
    def can_edit(self):
        return self.role in EDITING_ROLES


@dataclass(frozen=True)
class Scope:
    authenticated: bool
    grants: tuple = field(default_factory=tuple)

    @property
    def citywide(self):
        return any(g.citywide for g in self.grants)

    @property
    def can_edit_citywide(self):
        return any(g.citywide and g.can_edit for g in self.grants)

    @property
    def can_edit_anything(self):
        return any(g.can_edit for g in self.grants)

    # Named action rules: each workflow asks one of these instead of combining grants itself.
    @property
    def can_audit_logins(self):
        """The city admin (市级管理员; superusers count as one) reads the login audit and unlocks logins."""
        return any(g.role == Role.CITY_ADMIN for g in self.grants)

    @property
    def _county_or_city_editor(self):
        return self.can_edit_citywide or bool(self.county_ids)

    @property
    def can_import(self):
        """Ledger imports and suspected-point imports: city editors and county officers (whose rows must be
        their county's)."""
        return self._county_or_city_editor

    @property
    def can_create_campaign(self):
        """排查 campaigns are set up by city editors and county officers (for their county)."""
        return self._county_or_city_editor

    @property
    def can_run_rules(self):
        """Run the rectification rules: city editors (citywide or a county) and county officers (their own)."""
        return self._county_or_city_editor

    @property
    def can_submit_closeout(self):
        """Submit a plan's completion (申请销号): the county (属地) or the city bureau."""
        return self._county_or_city_editor

    @property
    def can_review_closeout(self):
        """Return, approve and reopen a close-out: the city bureau only."""
        return self.can_edit_citywide

    @property
    def can_import_gis(self):
        """Reference layers (protected areas, rivers, sections, boundaries) come in from the city bureau."""
        return self.can_edit_citywide

    @property
    def can_set_approval(self):
        """The approval fields (登记建档, 审批或登记文号, 批准时间): the city bureau's editors."""
        return self.can_edit_citywide

    @property
    def can_file_setup(self):
        """File a setup-review application (设置申请): a responsible entity for itself, a county officer for a unit
        of their county, the city bureau's editors for any."""
        return self._county_or_city_editor or bool(self.unit_ids)

    @property
    def can_decide_setup(self):
        """Consult the water authority, decide an application, withhold a decision from disclosure, keep the
        discharge permits: the city bureau's editors."""
        return self.can_edit_citywide

    @property
    def can_open_case(self):
        """Open an enforcement case, record its investigation, notice and enforcement, keep its evidence, handle an
        entity's 借道排污 report: the city bureau's editors and county officers (their county's cases)."""
        return self._county_or_city_editor

    @property
    def can_decide_case(self):
        """Decide an enforcement case (the penalty is the city bureau's, 实施方案（十一）) and close it (结案):
        the city bureau's editors."""
        return self.can_edit_citywide

    @property
    def can_patrol(self):
        """Record a river patrol (巡河) and its findings: river chiefs (their rivers), responsible entities (the
        rivers of their outfalls), county officers and the city bureau's editors (实施方案（十五））."""
        return self._county_or_city_editor or any(
            g.role in (Role.RIVER_CHIEF, Role.ENTITY) for g in self.grants
        )

    @property
    def river_chief_waters(self):
        """The water bodies a river chief's memberships name (empty: none named)."""
        return frozenset(w for g in self.grants if g.role == Role.RIVER_CHIEF for w in g.water_body_ids)

    @property
    def can_hold_accountable(self):
        """Record 通报批评 and 公开约谈 of a county or a department: the city bureau's editors."""
        return self.can_edit_citywide

    @property
    def can_write_national_codes(self):
        """Write back the national codes (国家统一编码) the national platform assigned: the city bureau's editors."""
        return self.can_edit_citywide

    @property
    def unit_ids(self):
        """The discharge units a responsible entity's memberships name."""
        return frozenset(g.unit_id for g in self.grants if g.role == Role.ENTITY and g.unit_id)

    @property
    def can_disclose(self):
        """Decide which outfalls are public (公开): the city bureau's editors (the plan's （十六）)."""
        return self.can_edit_citywide

    @property
    def county_ids(self):
        return frozenset(g.county_id for g in self.grants if g.role == Role.COUNTY and g.county_id)

    @property
    def no_county_limit(self):
        """Roles whose scope is not a county (departments, entities, river chiefs without one)."""
        return any(
            g.role in (Role.DEPARTMENT, Role.ENTITY) or (g.role == Role.RIVER_CHIEF and not g.county_id)
            for g in self.grants
        )

    @property
    def roles(self):
        return {g.role for g in self.grants}


ANONYMOUS = Scope(authenticated=False)


def county_or_department(queryset, user, *, citywide=True):
    """Rows that belong to a county (county_id) or a department (department_id): a county's staff see their
    county's, a department's staff their department's; with citywide, the citywide roles see them all."""
    scope = scope_of(user)
    if citywide and scope.citywide:
        return queryset
    departments = sorted(g.department_id for g in scope.grants if g.department_id)
    if not scope.county_ids and not departments:
        return queryset.none()
    return queryset.filter(Q(county_id__in=sorted(scope.county_ids)) | Q(department_id__in=departments))


def own_or_citywide(queryset, user, owner_field):
    """Rows a person started (imports, jobs): citywide roles see them all, everyone else their own."""
    scope = scope_of(user)
    if scope.citywide:
        return queryset
    return queryset.filter(**{owner_field: user}) if scope.authenticated else queryset.none()


def scope_of(user):
    """The user's scope, computed once per user object (request) and cached on it."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ANONYMOUS
    cached = getattr(user, "_outfalls_scope", None)
    if cached is not None:
        return cached
    grants = []
    if user.is_superuser:
        grants.append(Grant(role=Role.CITY_ADMIN))
    memberships = user.memberships.select_related("jurisdiction", "department").prefetch_related(
        "water_bodies"
    )
    for m in memberships:
        county_id = None
        if m.jurisdiction_id is not None:
            county_id = m.jurisdiction.county_id or m.jurisdiction_id
        grants.append(
            Grant(
                role=m.role,
                county_id=county_id if m.role in (Role.COUNTY, Role.RIVER_CHIEF) else None,
                department_id=m.department_id if m.role == Role.DEPARTMENT else None,
                department_types=frozenset(m.department.responsible_types)
                if m.department_id
                else frozenset(),
                unit_id=m.unit_id if m.role == Role.ENTITY else None,
                water_body_ids=frozenset(wb.pk for wb in m.water_bodies.all()),
            )
        )
    scope = Scope(authenticated=True, grants=tuple(grants))
    user._outfalls_scope = scope
    return scope
