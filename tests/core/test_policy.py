"""The permission policy's questions: roles, administrators, object rules, refusals."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.utils import translation

from core import policy
from core.roles import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_a_role_may_what_the_table_gives_it_and_nothing_else():
    planner = UserFactory(roles=[Role.PLANNER])
    assert policy.may(planner, "resources.item", "change")
    assert policy.may(planner, "planning.mrp", "run")
    assert not policy.may(planner, "resources.equipment", "change")
    assert not policy.may(planner, "quality.qualityhold", "release")


def test_a_user_without_a_role_and_anonymous_may_nothing():
    nobody = UserFactory()
    assert not policy.may(nobody, "resources.item", "view")
    assert not policy.may(AnonymousUser(), "resources.item", "view")


def test_administrators_and_superusers_may_everything():
    admin = UserFactory(roles=[Role.ADMIN])
    root = UserFactory(is_superuser=True)
    for user in (admin, root):
        assert policy.may(user, "planning.importjob", "add")
        assert policy.may(user, "quality.qualityhold", "release")


def test_a_deactivated_user_may_nothing():
    planner = UserFactory(roles=[Role.PLANNER], is_active=False)
    assert not policy.may(planner, "resources.item", "view")


def test_an_unknown_resource_or_action_is_a_programming_error():
    planner = UserFactory(roles=[Role.PLANNER])
    with pytest.raises(ImproperlyConfigured):
        policy.may(planner, "resources.nothing", "view")
    with pytest.raises(ImproperlyConfigured):
        policy.can(planner, "resources.item.fly")
    with pytest.raises(ImproperlyConfigured):
        policy.scope_register("resources.nothing", lambda user, action, obj: True)


def test_require_raises_with_the_sentence_that_names_who_may():
    operator = UserFactory(roles=[Role.OPERATOR])
    with pytest.raises(PermissionDenied, match="Only a planner may do this."):
        policy.require(operator, "planning.mrp", "run")
    with pytest.raises(PermissionDenied, match="Only an administrator may do this."):
        policy.require(operator, "planning.importjob", "add")
    policy.require(operator, "execution.workalert", "add")


def test_an_object_rule_narrows_the_role_and_none_leaves_it_to_the_role(monkeypatch):
    calls = []

    def rule(user, action, obj):
        calls.append((action, obj))
        return None if action == "view" else obj == "mine"

    monkeypatch.setitem(policy._scopes, "resources.item", rule)
    planner = UserFactory(roles=[Role.PLANNER])
    assert policy.may(planner, "resources.item", "change", "mine")
    assert not policy.may(planner, "resources.item", "change", "theirs")
    assert policy.may(planner, "resources.item", "view", "theirs")
    assert policy.may(planner, "resources.item", "change")  # no object: the role decides
    assert calls == [("change", "mine"), ("change", "theirs"), ("view", "theirs")]


def test_the_maintenance_role_exists_with_its_label():
    assert Role.MAINTENANCE in Role.ALL
    assert Role.LABELS[Role.MAINTENANCE] == "Maintenance / engineering"


def test_a_refusal_naming_several_roles_lists_them_in_the_readers_language(monkeypatch):
    roles = (Role.PLANNER, Role.SUPERVISOR, Role.OPERATOR)
    monkeypatch.setattr(policy, "roles_for", lambda resource, action: roles)
    with translation.override("en"):
        assert policy.refusal("planning.mrp", "run") == (
            "Only a planner, a production supervisor or an operator may do this."
        )
    with translation.override("zh-hans"):
        assert policy.refusal("planning.mrp", "run") == "只有计划员、班组长或操作工可以执行此操作。"
