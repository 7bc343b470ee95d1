"""Signals the packages app sends for higher apps to react to.

`packages_added(alt_ids)` is sent when packages are created in bulk (bulk statements send
no post_save): the catalogue's "create missing packages", a member system's catalogue
sync. A package saved one at a time (the admin, an import) sends Django's post_save.
"""

from django.dispatch import Signal

packages_added = Signal()
