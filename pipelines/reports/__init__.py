"""Reports in Bahasa Indonesia: the kabupaten's discrepancy workbook for Dinas Sosial, and the feedback file
for each desa. See docs/reports.md."""

from pipelines.reports.feedback import write_desa_feedback
from pipelines.reports.workbook import write_kabupaten_workbook

__all__ = ["write_desa_feedback", "write_kabupaten_workbook"]
