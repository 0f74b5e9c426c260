"""The one registry of channel adapters: name -> "module:Class".

Every adapter listed here is checked by ``tests/channels/test_contract.py``.
"""

from __future__ import annotations

import importlib

ADAPTERS: dict[str, str] = {
    "wechat": "channels.wechat.adapter:WechatAdapter",
    "sms": "channels.sms.adapter:SmsAdapter",
    "phone": "channels.phone.adapter:PhoneAdapter",
    "email": "channels.email.adapter:EmailAdapter",
    "mailbox": "channels.mailbox.adapter:MailboxAdapter",
    "telegram": "channels.telegram.adapter:TelegramAdapter",
}


def load_adapter(name: str):
    """The adapter class registered under ``name``."""
    module_name, class_name = ADAPTERS[name].split(":")
    return getattr(importlib.import_module(module_name), class_name)
