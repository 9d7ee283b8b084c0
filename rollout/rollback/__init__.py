"""The rollback procedures: the step vocabulary, the platforms' procedures, git, Docker and
the database rollback.
"""
