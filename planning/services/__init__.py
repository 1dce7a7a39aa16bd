"""Planning services: every write with business meaning, by topic."""

from .bom import bom_cycle_check, bom_line_save, bom_low_level_codes_update

__all__ = ["bom_cycle_check", "bom_line_save", "bom_low_level_codes_update"]
