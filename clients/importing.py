"""What every CSV/XLSX import and export of club records shares.

Imports are all or nothing, bounded in size and rows, and validated as models; exports
are safe to open in a spreadsheet.
"""

from django import forms
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
    """The admin base of every importable club record."""

    import_form_class = BoundedImportForm
