"""Demo plant, part 1: the plant structure, calendars, skills, users and operators.

An auto-parts plant: engine blocks (casting → machining → inspection → assembly) and a
moulding line with INJ-01 making housings. Idempotent (everything keyed on business codes).
"""

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils.translation import pgettext_lazy

from core.formatting import full_name
from core.roles import Role, roles_ensure
from core.tokens import service_account_create

from .models import (
    Area,
    Equipment,
    EquipmentChangeover,
    Holiday,
    MaintenanceWindow,
    Operator,
    OperatorSkill,
    ShiftAssignment,
    ShiftPattern,
    Site,
    Skill,
    SkillLevel,
    StockLocation,
    WorkCenter,
)
from .selectors.calendar import site_time_zone

DEMO_PASSWORD = "closedloop"

AREAS = [
    ("FOUNDRY", pgettext_lazy("demo plant", "Foundry")),
    ("MACHINING", pgettext_lazy("demo plant", "Machining hall")),
    ("ASSEMBLY", pgettext_lazy("demo plant", "Assembly")),
    ("MOULDING", pgettext_lazy("demo plant", "Injection moulding line")),
]
# code, name, area, labour rate/h, machine rate/h
WORK_CENTERS = [
    ("CAST", pgettext_lazy("demo plant", "Casting"), "FOUNDRY", "42", "30"),
    ("CNC", pgettext_lazy("demo plant", "CNC machining"), "MACHINING", "45", "36"),
    ("CMM", pgettext_lazy("demo plant", "Coordinate measuring"), "MACHINING", "40", "20"),
    ("ASM", pgettext_lazy("demo plant", "Engine block assembly"), "ASSEMBLY", "38", "10"),
    ("INJ", pgettext_lazy("demo plant", "Injection moulding"), "MOULDING", "35", "28"),
]
# CNC-01 is rated 95 units/day: 5.9375 units/h over two 8-hour shifts.
EQUIPMENT = [
    (
        "CAST-01",
        pgettext_lazy("demo plant", "Low-pressure die casting cell"),
        "CAST",
        "LPD-800",
        "12",
    ),
    ("CNC-01", pgettext_lazy("demo plant", "5-axis machining center 1"), "CNC", "DMU 65", "5.9375"),
    ("CNC-02", pgettext_lazy("demo plant", "5-axis machining center 2"), "CNC", "DMU 65", "5.9375"),
    (
        "CMM-01",
        pgettext_lazy("demo plant", "Coordinate measuring machine"),
        "CMM",
        "Contura G2",
        "15",
    ),
    (
        "ASM-01",
        pgettext_lazy("demo plant", "Assembly station 1"),
        "ASM",
        pgettext_lazy("demo plant", "Manual station"),
        "7.5",
    ),
    (
        "INJ-01",
        pgettext_lazy("demo plant", "Injection moulding machine 350 t"),
        "INJ",
        "Engel victory 350",
        "120",
    ),
]
# The machining centers hold one fixture at a time: engine blocks (FX-BLOCK, routings.csv)
# and cylinder heads (FX-HEAD, planning/demo.py). A change takes 30 minutes; mounting the
# heavy block fixture takes 45, taking it off for the light head fixture 20.
CHANGEOVER_MINUTES = {"CNC-01": 30, "CNC-02": 30}
CHANGEOVERS = [("FX-HEAD", "FX-BLOCK", 45), ("FX-BLOCK", "FX-HEAD", 20)]
SKILLS = [
    ("CAST", pgettext_lazy("demo plant", "Die casting")),
    ("CNC", pgettext_lazy("demo plant", "CNC machining")),
    ("CMM", pgettext_lazy("demo plant", "CMM measurement")),
    ("ASM", pgettext_lazy("demo plant", "Engine block assembly")),
    ("INJ", pgettext_lazy("demo plant", "Injection moulding")),
]
LOCATIONS = [
    ("WH-RAW", pgettext_lazy("demo plant", "Raw material warehouse")),
    ("WH-FG", pgettext_lazy("demo plant", "Finished goods warehouse")),
    ("LINE-ASM", pgettext_lazy("demo plant", "Line-side rack, assembly")),
    ("QUARANTINE", pgettext_lazy("demo plant", "Quality hold area")),
]
# A service account (core/tokens.py) linked to the work center whose events it reports.
GATEWAY = "cnc-gateway"
GATEWAY_WORK_CENTER = "CNC"
# username, first, last, role, operator badge, home work center, {skill: level}, shift
USERS = [
    (
        "zhangsan",
        "三",
        "张",
        Role.OPERATOR,
        "OP-001",
        "CNC",
        {"CNC": SkillLevel.EXPERT, "CAST": SkillLevel.QUALIFIED},
        pgettext_lazy("demo plant", "Early"),
    ),
    (
        "lisi",
        "四",
        "李",
        Role.OPERATOR,
        "OP-002",
        "CNC",
        {"CNC": SkillLevel.TRAINEE, "ASM": SkillLevel.QUALIFIED},
        pgettext_lazy("demo plant", "Early"),
    ),
    (
        "wangwu",
        "五",
        "王",
        Role.OPERATOR,
        "OP-003",
        "INJ",
        {"INJ": SkillLevel.EXPERT, "CAST": SkillLevel.QUALIFIED},
        pgettext_lazy("demo plant", "Late"),
    ),
    (
        "zhaoliu",
        "六",
        "赵",
        Role.INSPECTOR,
        "QC-001",
        "CMM",
        {"CMM": SkillLevel.EXPERT},
        pgettext_lazy("demo plant", "Early"),
    ),
    ("sunqi", "七", "孙", Role.SUPERVISOR, None, None, {}, None),
    ("zhouba", "八", "周", Role.PLANNER, None, None, {}, None),
    ("wujiu", "九", "吴", Role.COST_ACCOUNTANT, None, None, {}, None),
    ("zhengshi", "十", "郑", Role.SUPPLY_CHAIN_DIRECTOR, None, None, {}, None),
    ("qianyi", "一", "钱", Role.PLANT_MANAGER, None, None, {}, None),
    ("fengjie", "杰", "冯", Role.QUALITY_SUPERVISOR, None, None, {}, None),
    ("chenmo", "默", "陈", Role.MAINTENANCE, None, None, {}, None),
    (
        "admin",
        pgettext_lazy("demo plant", "Plant"),
        pgettext_lazy("demo plant", "Administrator"),
        Role.ADMIN,
        None,
        None,
        {},
        None,
    ),
]


def load(*, logins: list) -> str:
    roles_ensure()
    site, _ = Site.objects.update_or_create(
        code="SH-01",
        defaults={
            "name": pgettext_lazy("demo plant", "Shanghai auto-parts plant"),
            "time_zone": "Asia/Shanghai",
        },
    )
    areas = {
        code: Area.objects.update_or_create(code=code, defaults={"site": site, "name": name})[0]
        for code, name in AREAS
    }
    work_centers = {}
    for code, name, area, labour, machine in WORK_CENTERS:
        work_centers[code] = WorkCenter.objects.update_or_create(
            code=code,
            defaults={
                "area": areas[area],
                "name": name,
                "labour_rate_per_hour": Decimal(labour),
                "machine_rate_per_hour": Decimal(machine),
            },
        )[0]
        for shift_name, start, end in (
            (pgettext_lazy("demo plant", "Early"), time(6), time(14)),
            (pgettext_lazy("demo plant", "Late"), time(14), time(22)),
        ):
            ShiftPattern.objects.update_or_create(
                work_center=work_centers[code],
                name=shift_name,
                defaults={"weekdays": "1,2,3,4,5,6", "start_time": start, "end_time": end},
            )
    equipment = {}
    for code, name, wc, model, rate in EQUIPMENT:
        equipment[code] = Equipment.objects.update_or_create(
            code=code,
            defaults={
                "work_center": work_centers[wc],
                "name": name,
                "model": model,
                "rated_rate": Decimal(rate),
                "changeover_minutes": CHANGEOVER_MINUTES.get(code, 0),
            },
        )[0]
    for code in CHANGEOVER_MINUTES:
        for source, target, minutes in CHANGEOVERS:
            EquipmentChangeover.objects.update_or_create(
                equipment=equipment[code],
                from_family=source,
                to_family=target,
                defaults={"minutes": minutes},
            )
    # The two machining centers back each other up (saved one by one: the history sees it).
    for code, backup in (("CNC-01", "CNC-02"), ("CNC-02", "CNC-01")):
        equipment[code].backup_equipment = equipment[backup]
        equipment[code].save(update_fields=["backup_equipment"])

    for day, name in (
        (date(2026, 10, 1), pgettext_lazy("demo plant", "National Day")),
        (date(2027, 1, 1), pgettext_lazy("demo plant", "New Year's Day")),
    ):
        Holiday.objects.get_or_create(site=site, date=day, defaults={"name": name})
    if not MaintenanceWindow.objects.filter(equipment=equipment["CNC-02"]).exists():
        tz = site_time_zone(site)
        today = datetime.now(tz).date()
        wednesday = today + timedelta(days=(2 - today.weekday()) % 7 or 7)
        MaintenanceWindow.objects.create(
            equipment=equipment["CNC-02"],
            start=datetime.combine(wednesday, time(8), tzinfo=tz),
            end=datetime.combine(wednesday, time(12), tzinfo=tz),
            reason=pgettext_lazy("demo plant", "Spindle bearing inspection"),
        )

    skills = {
        code: Skill.objects.update_or_create(code=code, defaults={"name": name})[0]
        for code, name in SKILLS
    }
    for code, name in LOCATIONS:
        StockLocation.objects.update_or_create(code=code, defaults={"site": site, "name": name})

    user_model = get_user_model()
    for username, first, last, role, badge, home, skill_levels, shift in USERS:
        first, last = str(first), str(last)  # in the load's language
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "email": f"{username}@plant.local"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
        # The names as the demo has them now (a plant loaded before kept pinyin names).
        user.first_name, user.last_name = first, last
        # The admin site lets in whoever the permission policy gives a model to (no staff flag).
        user.is_staff = role == Role.ADMIN
        user.is_superuser = role == Role.ADMIN
        user.save()
        user.groups.add(Group.objects.get(name=role))
        logins.append((username, DEMO_PASSWORD, Role.LABELS[role]))
        if badge:
            operator, _ = Operator.objects.update_or_create(
                user=user,
                defaults={
                    "badge": badge,
                    "name": full_name(first, last),
                    "home_work_center": work_centers[home],
                },
            )
            for skill, level in skill_levels.items():
                OperatorSkill.objects.update_or_create(
                    operator=operator, skill=skills[skill], defaults={"level": level}
                )
            ShiftAssignment.objects.get_or_create(
                operator=operator,
                shift=ShiftPattern.objects.get(work_center=work_centers[home], name=shift),
                defaults={"valid_from": date(2026, 1, 1)},
            )
    # sunqi supervises every work center: urgent exceptions go to him.
    sunqi = user_model.objects.get(username="sunqi")
    for work_center in WorkCenter.objects.filter(supervisor__isnull=True):
        work_center.supervisor = sunqi
        work_center.save(update_fields=["supervisor"])
    # The machining cell's gateway reports events on CNC's tasks with its own API token.
    gateway = user_model.objects.filter(username=GATEWAY).first()
    if gateway is None:
        gateway = service_account_create(username=GATEWAY, created_by=None)
    work_centers[GATEWAY_WORK_CENTER].service_accounts.add(gateway)
    return (
        f"site {site.code}, {len(work_centers)} work centers, {len(equipment)} machines, "
        f"{len(USERS)} users, service account {GATEWAY}"
    )
