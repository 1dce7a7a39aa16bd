"""API helpers shared by every app: the exception handler that never answers 500."""

import copy
import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import StateConflict
from .roles import user_has_role

logger = logging.getLogger(__name__)


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail)
    if isinstance(exc, StateConflict):
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, ProtectedError | RestrictedError):
        used_by = sorted({str(obj) for obj in list(exc.args[1])[:5]})
        return Response(
            {"detail": f"Still in use by {', '.join(used_by)}; it cannot be deleted."},
            status=status.HTTP_409_CONFLICT,
        )
    return drf_exception_handler(exc, context)


class CleanModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer that also runs the model's own validation (clean() and constraints),
    so a rule broken through the API answers 400 naming the field, never a database error."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        model = self.Meta.model
        plain = {
            k: v
            for k, v in attrs.items()
            if not isinstance(v, list | tuple | dict) and k in {f.name for f in model._meta.fields}
        }
        if self.instance is not None:
            candidate = copy.copy(self.instance)
            for key, value in plain.items():
                setattr(candidate, key, value)
        else:
            candidate = model(**plain)
        try:
            candidate.full_clean(validate_unique=False)
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            raise ValidationError(detail) from exc
        return attrs


def roles_may_write(*roles: str) -> type[BasePermission]:
    """A permission: any signed-in user may read; only the given roles (or admin) may write."""

    class RolesMayWrite(BasePermission):
        message = f"Only {', '.join(roles)} may change this."

        def has_permission(self, request, view):
            if not (request.user and request.user.is_authenticated):
                return False
            if request.method in SAFE_METHODS:
                return True
            return user_has_role(request.user, *roles)

    RolesMayWrite.__name__ = f"RolesMayWrite_{'_'.join(roles)}"
    return RolesMayWrite
