"""English dates as the plant writes them in tables (FORMAT_MODULE_PATH): the short forms are
ISO, 2026-12-07 and 2026-12-07 14:05, the same figures as the Chinese pages show, so a table
can say `|date:"SHORT_DATETIME_FORMAT"` and read right in either language. The long forms
stay Django's (Dec. 7, 2026)."""

from django.conf.locale.en.formats import *  # noqa: F403  (every other format as Django has it)

SHORT_DATE_FORMAT = "Y-m-d"  # 2026-12-07
SHORT_DATETIME_FORMAT = "Y-m-d H:i"  # 2026-12-07 14:05
