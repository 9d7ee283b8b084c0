"""The simulated world of a drill: the fakes on one clock, the users and their traffic,
faults, monitoring, the app's repository, CI, database and sync.
"""
