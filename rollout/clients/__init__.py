"""The vendor HTTP clients the procedures and the app call, one module per vendor.

Each is a thin synchronous httpx client sending what the vendor's own tools send; every
error answer becomes ``rollout.clients.errors.VendorError``.
"""
