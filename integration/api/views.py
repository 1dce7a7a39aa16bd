"""B2MML V0701 documents over HTTP, under /api/v1/b2mml/ (docs/b2mml.md).

XML in and out (`application/xml`): a GET answers an export document, a POST of a raw
document answers its `Acknowledge…` document (200), or a `ConfirmBOD` naming the failing
element paths (400 invalid, 403 refused, 409 state conflict; nothing written). Who may do
what: core/policy.py (integration.b2mml_*). A refusal before the document is read (no
credentials, no permission, a JSON body) answers the API's usual JSON error body.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.views import APIView

from core.parsing import aware_instant_parse

from ..schemas import B2mmlError, listed
from ..selectors.b2mml_export import export_bytes
from ..services.b2mml_import import b2mml_import, refusal_document, roots_of

XML = "application/xml"


class XmlParser(BaseParser):
    """The raw bytes of an XML document; the service reads and validates them."""

    media_type = XML

    def parse(self, stream, media_type=None, parser_context=None):
        if stream is None:
            return b""
        limit = settings.B2MML_MAX_BYTES
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise RequestDataTooBig(
                gettext("A B2MML document is at most %(limit)d bytes.") % {"limit": limit}
            )
        return data


class TextXmlParser(XmlParser):
    media_type = "text/xml"


def xml_response(data: bytes, status: int = 200) -> HttpResponse:
    return HttpResponse(data, status=status, content_type=f"{XML}; charset=utf-8")


def _refused(error: B2mmlError, data: bytes | None = None) -> HttpResponse:
    return xml_response(refusal_document(error, data), status=error.status)


EXPORT_PARAMETERS = {
    "order": gettext_lazy(
        "Production order number; repeat or separate by commas (default: all that apply)"
    ),
    "since": gettext_lazy(
        "Only what is new or changed since this ISO 8601 instant with its offset"
    ),
}


class B2mmlView(APIView):
    """One kind of document: `export` answers GET, `kind` is what a POST imports."""

    parser_classes = [XmlParser, TextXmlParser]
    export: str | None = None
    kind: str | None = None
    query_names: tuple[str, ...] = ("order", "since")
    policy_actions = {"POST": "import"}

    def _options(self, request) -> dict:
        unknown = sorted(set(request.query_params) - set(self.query_names))
        if unknown:
            raise B2mmlError(
                gettext("Unknown query parameter %(names)s; this takes %(accepted)s.")
                % {"names": listed(unknown), "accepted": listed(self.query_names)},
                errors=[(name, gettext("unknown query parameter")) for name in unknown],
            )
        options: dict = {}
        numbers = [
            n.strip()
            for raw in request.query_params.getlist("order")
            for n in raw.split(",")
            if n.strip()
        ]
        if numbers:
            options["numbers"] = numbers
        if request.query_params.get("since"):
            raw = request.query_params["since"]
            try:
                options["since"] = aware_instant_parse(raw)
            except ValueError:
                message = gettext("%(value)s is not an ISO 8601 instant with its offset.") % {
                    "value": repr(raw)
                }
                raise B2mmlError(message, errors=[("since", message)]) from None
        if request.query_params.get("status"):
            options["status"] = request.query_params["status"]
        return options

    def export_response(self, request) -> HttpResponse:
        try:
            return xml_response(export_bytes(self.export, **self._options(request)))
        except B2mmlError as error:
            return _refused(error)

    def import_response(self, request) -> HttpResponse:
        data = request.data
        if not data:
            data = b""  # DRF hands an empty body over as an empty dict
        if not isinstance(data, bytes):
            raise ValidationError({"body": gettext("Send the B2MML document as application/xml.")})
        try:
            imported = b2mml_import(data=data, by=request.user, kind=self.kind)
        except B2mmlError as error:
            return _refused(error, data)
        return xml_response(imported.acknowledgement)


XML_ANSWERS = {
    (200, XML): OpenApiTypes.STR,
    (400, XML): OpenApiTypes.STR,
    (403, XML): OpenApiTypes.STR,
}


def exports(summary: str, description: str, *, status: bool = False):
    parameters = [OpenApiParameter(n, str, description=t) for n, t in EXPORT_PARAMETERS.items()]
    if status:
        parameters.append(
            OpenApiParameter("status", str, description=gettext_lazy("Exception status"))
        )
    return extend_schema(
        summary=summary,
        description=description,
        parameters=parameters,
        responses={**XML_ANSWERS, (404, XML): OpenApiTypes.STR},
    )


def _import_summary(kind: str) -> str:
    return gettext("Import: %(documents)s") % {"documents": ", ".join(roots_of(kind))}


def imports(kind: str, description: str):
    return extend_schema(
        summary=lazy(_import_summary, str)(kind),
        description=description,
        request={XML: OpenApiTypes.STR},
        responses={**XML_ANSWERS, (409, XML): OpenApiTypes.STR},
    )


SCHEDULE_TEXT = gettext_lazy(
    "Released production orders as ProcessOperationsSchedule; an ERP's schedule in."
)


class ScheduleView(B2mmlView):
    policy_resource = "integration.b2mml_schedule"
    export = kind = "schedule"

    @exports(
        gettext_lazy("Export: released production orders (ProcessOperationsSchedule)"),
        SCHEDULE_TEXT,
    )
    def get(self, request):
        return self.export_response(request)

    @imports("schedule", SCHEDULE_TEXT)
    def post(self, request):
        return self.import_response(request)


PERFORMANCE_TEXT = gettext_lazy(
    "Progress and actuals as SyncOperationsPerformance; an MES's actuals in."
)


class PerformanceView(B2mmlView):
    policy_resource = "integration.b2mml_performance"
    export = kind = "performance"

    @exports(
        gettext_lazy("Export: progress and actuals (SyncOperationsPerformance)"), PERFORMANCE_TEXT
    )
    def get(self, request):
        return self.export_response(request)

    @imports("performance", PERFORMANCE_TEXT)
    def post(self, request):
        return self.import_response(request)


ALERTS_TEXT = gettext_lazy("Exceptions (work alerts) as SyncWorkAlert.")


class AlertsView(B2mmlView):
    policy_resource = "integration.b2mml_alerts"
    export = "alerts"
    query_names = ("order", "since", "status")

    @exports(gettext_lazy("Export: exceptions (SyncWorkAlert)"), ALERTS_TEXT, status=True)
    def get(self, request):
        return self.export_response(request)


EQUIPMENT_TEXT = gettext_lazy("Machines from SyncEquipment / ProcessEquipment.")


class EquipmentView(B2mmlView):
    policy_resource = "integration.b2mml_equipment"
    kind = "equipment"

    @imports("equipment", EQUIPMENT_TEXT)
    def post(self, request):
        return self.import_response(request)


MATERIAL_TEXT = gettext_lazy("Items from SyncMaterialDefinition / ProcessMaterialDefinition.")


class MaterialView(B2mmlView):
    policy_resource = "integration.b2mml_material"
    kind = "material"

    @imports("material", MATERIAL_TEXT)
    def post(self, request):
        return self.import_response(request)


PERSONNEL_TEXT = gettext_lazy("Operators from SyncPerson / ProcessPerson.")


class PersonnelView(B2mmlView):
    policy_resource = "integration.b2mml_personnel"
    kind = "personnel"

    @imports("personnel", PERSONNEL_TEXT)
    def post(self, request):
        return self.import_response(request)
