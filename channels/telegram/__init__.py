"""Telegram channel (aiogram, webhook mode) for citizens abroad."""
