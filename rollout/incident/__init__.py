"""The incident side: the decision tree, escalation, communications and webhook
verification.
"""
