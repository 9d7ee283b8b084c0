"""The app's Pulse integration: the client, the mapping, the sync service and the Scenario
3 response.
"""
