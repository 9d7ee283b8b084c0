"""The rollback procedures: the step vocabulary, the platforms' procedures and the Vercel
steps they share, git, Docker and the database rollback.
"""
