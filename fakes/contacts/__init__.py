"""The Contacts app the users hit: /contacts rendered new or old by the real flag function."""
