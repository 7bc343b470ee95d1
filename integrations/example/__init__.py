"""The example vendor: the smallest complete connector, and the package to copy for a new one.

Every vendor package has the same modules, each with one job:

- client.py     the vendor's API and nothing else: HTTP in, typed records (dataclasses) out
- mapping.py    a vendor record -> a neutral Gatehouse record (or BadRecord when unusable)
- syncs.py      the SyncJobs: read pages from the client, map them, apply them with services
- connector.py  settings fields, secrets, SyncSpecs (name, label, job), hooks
- sandbox.py    an in-repo fake of the vendor that tests and `manage.py sandbox` run against

Optional ones (models, services, selectors, admin, webhooks, demo) are added only when the
vendor needs them. Registered, but hidden from Settings > Integrations unless DEBUG or
INTEGRATION_SHOW_HIDDEN says so.
"""
