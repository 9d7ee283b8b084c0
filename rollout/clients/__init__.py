"""The vendor HTTP clients the procedures and the app call."""
