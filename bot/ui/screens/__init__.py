"""What each flow shows: text from the templates and buttons from the typed payloads."""
