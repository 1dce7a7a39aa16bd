"""Credential settings from the environment: no Basic auth in production, the lockout,
throttle and idle limits, and the optional single sign-on (OIDC, LDAP)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.sso import ROLE_NAMES, ldap_settings, oidc_settings, role_map
from core.roles import Role

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings_production",
    "SECRET_KEY": "k" * 20 + "Zq8#v!2mN0pL7xR4tY6wB9cD1eF3gH5jK",
    "ALLOWED_HOSTS": "plant.example.com",
}
CREDENTIAL_VARIABLES = {
    "API_BASIC_AUTH",
    "LOGIN_FAILURE_LIMIT",
    "LOGIN_LOCKOUT_MINUTES",
    "API_THROTTLE_ANON",
    "API_THROTTLE_USER",
    "API_THROTTLE_TOKEN",
    "SESSION_IDLE_MINUTES",
    "SESSION_IDLE_MINUTES_BY_ROLE",
    "SESSION_MAX_HOURS",
    "OIDC_RP_CLIENT_ID",
    "AUTH_LDAP_SERVER_URI",
}


def settings_print(expression: str, **env) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in CREDENTIAL_VARIABLES | {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    code = f"from django.conf import settings as s;s.DEBUG;print({expression})"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "config.settings", **base, **env},
        capture_output=True,
        text=True,
    )


def test_production_takes_sessions_and_tokens_but_no_basic_auth():
    classes = "s.REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES'], s.API_BASIC_AUTH"
    result = settings_print(classes, **PRODUCTION)
    assert result.stdout.strip() == (
        "['core.auth.ApiTokenAuthentication', "
        "'rest_framework.authentication.SessionAuthentication'] False"
    ), result.stderr
    refused = settings_print("1", **PRODUCTION, API_BASIC_AUTH="true")
    assert refused.returncode != 0 and "API_BASIC_AUTH is for development only" in refused.stderr
    development = settings_print("s.API_BASIC_AUTH", API_BASIC_AUTH="true")
    assert development.stdout.strip() == "True", development.stderr


def test_limits_read_from_the_environment():
    expression = (
        "s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), s.API_THROTTLE_RATES, "
        "s.SESSION_IDLE_MINUTES, s.SESSION_IDLE_MINUTES_BY_ROLE, s.SESSION_COOKIE_AGE"
    )
    defaults = settings_print(expression)
    assert defaults.stdout.strip() == (
        "5 900.0 {'anon': '30/min', 'user': '120/min', 'token': '1200/min'} 480 "
        "{'operator': 15, 'inspector': 15} 43200"
    ), defaults.stderr
    chosen = settings_print(
        expression,
        LOGIN_FAILURE_LIMIT="10",
        LOGIN_LOCKOUT_MINUTES="30",
        API_THROTTLE_USER="off",
        API_THROTTLE_TOKEN="50/s",
        SESSION_IDLE_MINUTES="60",
        SESSION_IDLE_MINUTES_BY_ROLE="operator=5",
        SESSION_MAX_HOURS="9",
    )
    assert chosen.stdout.strip() == (
        "10 1800.0 {'anon': '30/min', 'user': None, 'token': '50/s'} 60 {'operator': 5} 32400"
    ), chosen.stderr
    for name, bad in (
        ("LOGIN_FAILURE_LIMIT", "0"),
        ("API_THROTTLE_USER", "lots"),
        ("SESSION_IDLE_MINUTES_BY_ROLE", "operator:15"),
    ):
        refused = settings_print("1", **{name: bad})
        assert refused.returncode != 0 and f"{name}={bad!r}" in refused.stderr, refused.stderr


def test_the_cache_is_redis_when_configured_and_local_memory_otherwise():
    expression = "s.CACHES['default']['BACKEND'], s.CACHES['default'].get('LOCATION', '')"
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "CACHE_URL"}}
    local = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from django.conf import settings as s;s.DEBUG;print({expression})",
        ],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
    )
    assert local.stdout.split() == ["django.core.cache.backends.locmem.LocMemCache"], local.stderr
    redis = settings_print(expression, REDIS_URL="redis://127.0.0.1:6379/0")
    assert redis.stdout.split() == [
        "django.core.cache.backends.redis.RedisCache",
        "redis://127.0.0.1:6379/0",
    ]
    separate = settings_print(expression, CACHE_URL="redis://127.0.0.1:6379/2")
    assert separate.stdout.split()[-1] == "redis://127.0.0.1:6379/2"


# --- single sign-on ------------------------------------------------------------------------

OIDC = {
    "OIDC_RP_CLIENT_ID": "closedloop",
    "OIDC_RP_CLIENT_SECRET": "s3cret",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://idp.plant.local/auth",
    "OIDC_OP_TOKEN_ENDPOINT": "https://idp.plant.local/token",
    "OIDC_OP_USER_ENDPOINT": "https://idp.plant.local/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://idp.plant.local/jwks",
}


def test_the_role_names_known_to_the_settings_cover_every_role():
    assert set(Role.ALL) <= set(ROLE_NAMES)


def test_no_single_sign_on_unless_configured():
    assert oidc_settings({}) == {} and ldap_settings({}) == {}
    backends = settings_print("s.AUTHENTICATION_BACKENDS, s.OIDC_ENABLED")
    assert backends.stdout.strip() == (
        "['core.auth.LockoutBackend', 'core.auth.AccountBackend', "
        "'core.policy.PolicyBackend'] False"
    ), backends.stderr


def test_oidc_from_the_environment():
    pytest.importorskip("mozilla_django_oidc")
    values = oidc_settings({**OIDC, "OIDC_ROLE_MAP": "MES-Operators=operator"})
    assert values["AUTHENTICATION_BACKENDS"] == ["core.sso.RoleClaimOIDCBackend"]
    assert values["OIDC_ROLE_MAP"] == {"MES-Operators": "operator"}
    assert values["OIDC_RP_SIGN_ALGO"] == "RS256" and values["OIDC_ROLE_CLAIM"] == "groups"
    with pytest.raises(ImproperlyConfigured, match="OIDC_OP_JWKS_ENDPOINT"):
        oidc_settings({k: v for k, v in OIDC.items() if k != "OIDC_OP_JWKS_ENDPOINT"})
    wired = settings_print("s.AUTHENTICATION_BACKENDS[-1], s.OIDC_ENABLED", **OIDC)
    assert wired.stdout.strip() == "core.sso.RoleClaimOIDCBackend True", wired.stderr


def test_oidc_without_its_package_stops_with_the_install_line(monkeypatch):
    monkeypatch.setattr("config.sso.find_spec", lambda name: None)
    with pytest.raises(ImproperlyConfigured, match=r"pip install '\.\[oidc\]'"):
        oidc_settings(OIDC)


def test_ldap_without_its_package_stops_with_the_install_line(monkeypatch):
    monkeypatch.setattr("config.sso.find_spec", lambda name: None)
    with pytest.raises(ImproperlyConfigured, match=r"pip install '\.\[ldap\]'"):
        ldap_settings({"AUTH_LDAP_SERVER_URI": "ldaps://ldap.plant.local"})


def test_a_role_map_names_known_roles_only():
    assert role_map("QA Team=inspector, Planners=planner", "X") == {
        "QA Team": "inspector",
        "Planners": "planner",
    }
    with pytest.raises(ImproperlyConfigured, match="X="):
        role_map("Wizards=wizard", "X")


@pytest.mark.django_db
def test_an_oidc_sign_in_gets_the_roles_its_claim_names(settings):
    pytest.importorskip("mozilla_django_oidc")
    from django.contrib.auth.models import Group

    from core.roles import roles_ensure
    from core.sso import RoleClaimOIDCBackend

    for name, value in oidc_settings(OIDC).items():
        if name not in {"INSTALLED_APPS", "AUTHENTICATION_BACKENDS"}:
            setattr(settings, name, value)
    settings.OIDC_ROLE_MAP = {"MES-Operators": "operator"}
    roles_ensure()
    backend = RoleClaimOIDCBackend()
    claims = {
        "email": "zhangsan@plant.local",
        "preferred_username": "zhangsan",
        "given_name": "San",
        "family_name": "Zhang",
        "groups": ["MES-Operators", "inspector", "Canteen"],
    }
    user = backend.create_user(claims)
    assert user.username == "zhangsan" and not user.has_usable_password()
    assert sorted(user.groups.values_list("name", flat=True)) == ["inspector", "operator"]
    user.groups.add(Group.objects.create(name="night shift"))  # not a role: kept
    backend.update_user(user, {**claims, "groups": ["planner"]})
    assert sorted(user.groups.values_list("name", flat=True)) == ["night shift", "planner"]
