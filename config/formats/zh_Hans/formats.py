"""Dates, times and numbers as a Chinese plant writes them (FORMAT_MODULE_PATH).

Django's own zh_Hans formats write a short date as 2026年12月7日, and three of their input
formats are broken (`%n`, `%j` in "%Y年%n月%j日" are a newline and the day of the year): here a
long date reads 2026年12月7日, a short one and a date-time in tables 2026-12-07 14:05, and
2026-12-07, 2026/12/07 and 2026年12月7日 are all read back.
"""

DATE_FORMAT = "Y年n月j日"  # 2026年12月7日
TIME_FORMAT = "H:i"  # 14:05
DATETIME_FORMAT = "Y年n月j日 H:i"  # 2026年12月7日 14:05
YEAR_MONTH_FORMAT = "Y年n月"  # 2026年12月
MONTH_DAY_FORMAT = "n月j日"  # 12月7日
SHORT_DATE_FORMAT = "Y-m-d"  # 2026-12-07
SHORT_DATETIME_FORMAT = "Y-m-d H:i"  # 2026-12-07 14:05
FIRST_DAY_OF_WEEK = 1  # 星期一

DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2026-12-07
    "%Y/%m/%d",  # 2026/12/07
    "%Y年%m月%d日",  # 2026年12月7日
]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S", "%H:%M:%S.%f"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",  # what a datetime-local input sends
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
]

DECIMAL_SEPARATOR = "."
# Grouped by thousands as Chinese business documents write figures (1,234,567), where a
# number is grouped at all (USE_THOUSAND_SEPARATOR is off; intcomma and floatformat's "g").
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
