"""E-mail channel: IMAP polling (IDLE) and an SMTP listener in, SMTP out."""
