"""The admin's own words in the reader's language: the columns it computes, the actions it
offers, the API token's fields (taken from rest_framework_api_key, named here), and the
one-sentence summary of an API error."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from core.api import summarize
from core.models import ApiToken
from core.tokens import api_token_issue, service_account_create

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _described(model, name: str) -> str:
    """A column's or an action's description as the admin of `model` gives it."""
    return str(getattr(admin.site._registry[model], name).short_description)


def test_the_summary_of_an_error_puts_a_full_width_colon_in_chinese():
    entries = [{"field": "quantity", "message": "必须大于零。"}]
    with translation.override("zh-hans"):
        assert summarize([], entries) == "quantity：必须大于零。"
        assert summarize([], [{"row": 2, "field": "code", "message": "必填。"}]) == (
            "第 2 行 code：必填。"
        )
        named = summarize([], [{"field": "a", "message": "x"}, {"field": "b", "message": "y"}])
        assert "a、b" in named
    assert summarize([], [{"field": "quantity", "message": "Too small."}]) == (
        "quantity: Too small."
    )


@pytest.mark.django_db
def test_the_admins_columns_and_actions_are_named_in_chinese():
    from django.contrib.auth.models import User

    from core.models import ServiceAccount, Signature
    from integration.models import Delivery, LegacyRejectedRow, LegacySource
    from quality.models import InspectionRecord
    from resources.models import StockMove

    with translation.override("zh-hans"):
        assert _described(Signature, "verified") == "验证通过"
        assert _described(ServiceAccount, "role_names") == "角色"
        assert _described(ServiceAccount, "token_count") == "令牌数"
        assert _described(ServiceAccount, "last_used") == "最近使用"
        assert _described(ApiToken, "revoke") == "吊销所选令牌"
        assert _described(ApiToken, "status") == "状态"
        assert _described(User, "deactivate") == "停用所选账号"
        assert _described(Delivery, "replay") == "重新发送所选死信"
        assert _described(Delivery, "short_error") == "最近错误"
        assert _described(LegacySource, "run_now") == "立即运行所选数据源"
        assert _described(LegacyRejectedRow, "row_ref") == "行"
        assert _described(StockMove, "signatures") == "签名"
        assert _described(InspectionRecord, "reason_read") == "原因"
    assert _described(ApiToken, "revoke") == "Revoke the selected tokens"


@pytest.mark.django_db
def test_the_api_token_admin_names_the_librarys_fields_in_chinese(admin_client):
    admin_user = get_user_model().objects.get(username="admin")
    account = service_account_create(username="erp-sync", created_by=admin_user)
    token = ApiToken(user=account, name="ERP", expiry_date=timezone.now() + timezone.timedelta(30))
    api_token_issue(token=token, issued_by=admin_user)
    with translation.override("zh-hans"):
        labels = {f.name: str(f.verbose_name) for f in ApiToken._meta.get_fields() if f.concrete}
        assert labels["prefix"] == "前缀" and labels["created"] == "创建时间"
        assert labels["revoked"] == "已吊销" and labels["hashed_key"] == "密钥哈希"
        assert str(ApiToken._meta.get_field("name").help_text).startswith("令牌的名称")

    page = admin_client.get("/admin/core/apitoken/", **ZH).content.decode()
    for word in ("前缀", "名称", "创建时间", "状态", "有效", "吊销所选令牌"):
        assert word in page, word
    assert "Prefix" not in page and "Revoke the selected tokens" not in page
    form = admin_client.get(f"/admin/core/apitoken/{token.pk}/change/", **ZH).content.decode()
    assert "已吊销" in form and "吊销后的令牌不能再用于登录" in form


def test_the_admin_index_names_every_app_and_model_in_chinese(admin_client):
    from django.apps import apps

    html = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for name in (
        "系统核心",
        "执行（车间）",
        "集成（外部系统）",
        "资源与主数据",
        "设备（机器数据）",
    ):
        assert name in html
    # The sign-in lockout library's models, from core's catalogue (core/library_texts.py).
    assert "访问尝试" in html and "访问日志" in html
    assert "登录锁定" in html and ">axes<" not in html.lower()  # its app, named
    # No English plural made by adding an "s" to a Chinese name.
    assert "服务账号s" not in html and "异常s" not in html
    # The site's own header and titles.
    assert "ClosedLoop 后台管理" in html and "主数据与配置" in html
    assert "administration" not in html and "Master data" not in html
    ours = ("core", "resources", "planning", "execution", "quality", "costing", "devices")
    with translation.override("zh-hans"):
        for config in apps.get_app_configs():
            if config.label in ours + ("integration",):
                name = str(config.verbose_name)
                assert not name.isascii(), name


@pytest.mark.django_db
def test_the_admin_shows_decimals_without_trailing_zeros(client):
    """A list column and a read-only field show 83 and 2.5, not 83.0000 and 2.5000."""
    from decimal import Decimal

    from resources.models import Item

    item = Item.objects.create(
        code="RAW-83", name="Bar stock", source="buy", uom="kg", standard_cost=Decimal("83")
    )
    Item.objects.create(code="RAW-25", name="Wire", source="buy", standard_cost=Decimal("2.5"))
    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    page = client.get("/admin/resources/item/").content.decode()
    assert '<td class="field-standard_cost">83</td>' in page
    assert '<td class="field-standard_cost">2.5</td>' in page
    assert "83.0000" not in page and "2.5000" not in page
    history = client.get(f"/admin/resources/item/{item.pk}/history/").status_code
    assert history == 200
    from core.admin_numbers import display_for_field

    field = Item._meta.get_field("standard_cost")
    with translation.override("en"):
        assert display_for_field(Decimal("1234.5000"), field, "-") in {"1234.5", "1,234.5"}
    assert display_for_field(None, field, "-") == "-"
