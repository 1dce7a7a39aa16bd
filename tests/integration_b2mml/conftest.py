import pytest
from django.conf import settings

if not (settings.B2MML_SCHEMA_DIR / "B2MML-OperationsSchedule.xsd").is_file():
    pytest.skip(
        f"the B2MML V0701 schemas are not in B2MML_SCHEMA_DIR={settings.B2MML_SCHEMA_DIR}",
        allow_module_level=True,
    )
