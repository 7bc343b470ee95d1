"""What every CSV/XLSX import and export of club records shares.

Imports are all or nothing, bounded in size and rows, and validated as models; exports
are safe to open in a spreadsheet.
"""

from django import forms
from django.contrib import messages
from import_export import resources
from import_export.admin import ImportExportModelAdmin
from import_export.forms import ImportForm

MAX_IMPORT_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_escape(value):
    """Prefix a quote to text a spreadsheet would run as a formula (OWASP CSV injection).

    Numbers such as "-0.4785" stay numbers.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


class AllOrNothingResource(resources.ModelResource):
    """A resource whose import writes nothing when any row is bad, and whose export is safe
    to open in a spreadsheet.

    Rows are validated as models (field validators and constraints), and a row with a
    validation error rolls the whole file back, not just that row.
    """

    def import_data(self, dataset, **kwargs):
        kwargs.setdefault("rollback_on_validation_errors", True)
        kwargs.setdefault("use_transactions", True)
        return super().import_data(dataset, **kwargs)

    def before_import(self, dataset, **kwargs):
        if len(dataset) > MAX_IMPORT_ROWS:
            raise ValueError(f"The file has {len(dataset):,} rows; import at most {MAX_IMPORT_ROWS:,} "
                             "at a time (split the file).")
        super().before_import(dataset, **kwargs)

    def export_field(self, field, instance, **kwargs):
        return formula_escape(super().export_field(field, instance, **kwargs))


def import_committed(result) -> bool:
    """Whether an AllOrNothingResource import kept its rows: it rolls back on any error."""
    return not result.has_errors() and not result.has_validation_errors()


def import_problems(result, limit: int = 3) -> list[str]:
    """The first problems of a failed import, "row N: field: message", for the admin message."""
    found = [str(error.error) for error in result.base_errors]
    found += [f"row {number}: {errors[0].error}" for number, errors in result.row_errors()]
    for row in result.invalid_rows:
        found += [f"row {row.number}: {field}: {' '.join(texts)}" for field, texts in row.error_dict.items()]
    return [problem[:300] for problem in found[:limit]]


class BoundedImportForm(ImportForm):
    """Refuses a file larger than MAX_IMPORT_BYTES before anything reads it."""

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                f"{MAX_IMPORT_BYTES // 1024 // 1024} MB. Split it into smaller files."
            )
        return upload


class ClubImportExportAdmin(ImportExportModelAdmin):
    """The admin base of every importable club record.

    The confirm step can be posted for a file whose dry run failed; the import then rolls
    back, so it logs nothing and says nothing was imported (import_export would log and
    count the rolled-back rows).
    """

    import_form_class = BoundedImportForm

    def generate_log_entries(self, result, request):
        if import_committed(result):
            super().generate_log_entries(result, request)

    def add_success_message(self, result, request):
        if import_committed(result):
            super().add_success_message(result, request)
            return
        failed = len(result.base_errors) + len(result.row_errors()) + len(result.invalid_rows)
        messages.error(request, f"Nothing was imported (0 {self.model._meta.verbose_name_plural}); fix the "
                                f"file and import it again. {failed} problem(s): {'; '.join(import_problems(result))}")
