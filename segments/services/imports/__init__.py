"""Imports of segment members from CSV and XLSX files, and exports back to them.

One service for every face: the admin's preview and confirm, the API and the
`import_members` command all create an `ImportJob` with `import_job_create`; the job
streams the file into a staging table and applies it with set-based statements."""

from .cleanup import ImportsPurged, imports_purge
from .export import FORMATS, csv_chunks, export_file
from .jobs import (
    import_job_cancel,
    import_job_confirm,
    import_job_create,
    import_job_run,
)

__all__ = [
    "FORMATS",
    "ImportsPurged",
    "csv_chunks",
    "export_file",
    "import_job_cancel",
    "import_job_confirm",
    "import_job_create",
    "import_job_run",
    "imports_purge",
]
