"""The logic under test: what the app and the on-call automation really run.

Flags (``shouldShowNewContacts``, ``hash_code``, ``bucket``), the decision logic and the
rollback actions (HTTP calls to vendor APIs through httpx). Knows nothing of SimPy or of
the fakes: it is the code a team would deploy.
"""
