"""The rollback procedures: the platforms' procedures (PostHog, Vercel, Netlify), git,
Docker and the database rollback, and the runbook's targets and estimates as data.
"""
