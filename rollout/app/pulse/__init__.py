"""The app's Pulse integration: the client, the entity mapping, the contact store, the sync
service and its status, and the Scenario 3 response.
"""
