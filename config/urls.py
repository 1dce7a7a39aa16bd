from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.urls import include, path
from django.utils.translation import gettext_lazy
from drf_spectacular.views import SpectacularAPIView

from core import views as core_views
from core.api_views import ApiDocsView
from core.policy import admin_site_permission

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("", include("core.urls")),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            extra_context={"oidc_login_label": getattr(settings, "OIDC_LOGIN_LABEL", "")}
        ),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Anyone may switch the pages' language, before signing in too (core.views.language_set).
    path("accounts/language/", core_views.language_set, name="language"),
    path("admin/", admin.site.urls),
    path("planning/", include("planning.urls")),
    path("execution/", include("execution.urls")),
    path("quality/", include("quality.urls")),
    path("costing/", include("costing.urls")),
    path("devices/", include("devices.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The schema in the language asked for (?lang=zh-hans), else the request's; the docs page
    # asks for its reader's (core.api_views.ApiDocsView).
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.OIDC_ENABLED:  # single sign-on with the plant's identity provider (config/sso.py)
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

# Errors outside the API views (an unknown /api/ path, a failure in middleware) answer the
# API's JSON error body under /api/ and the usual pages elsewhere (core/api.py).
handler400 = "core.api.bad_request"
handler403 = "core.api.permission_denied"
handler404 = "core.api.page_not_found"
handler500 = "core.api.server_error"

# Who may open the admin site: whoever the permission policy lets see one of its models (no
# staff flag); what they see and edit in it is the policy's too (core.policy.PolicyBackend).
admin.site.has_permission = admin_site_permission(admin.site)
# The admin's own login form would ask for the staff flag; the door above decides instead.
admin.site.login_form = AuthenticationForm
admin.site.site_header = gettext_lazy("ClosedLoop administration")
admin.site.site_title = gettext_lazy("ClosedLoop admin")
admin.site.index_title = gettext_lazy("Master data and configuration")
