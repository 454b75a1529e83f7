"""Sending mail: SMTP when configured, else a local maildir under var/ that a user or a test reads."""

from __future__ import annotations

import asyncio
import mailbox
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class MaildirMailer:
    """Delivers into a Maildir (new/ holds one file per message), the embedded default."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._maildir = mailbox.Maildir(path, create=True)

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._maildir.add, message)


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str
    password: str
    starttls: bool
    timeout_s: float = 10.0


class SmtpMailer:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    def _send(self, message: EmailMessage) -> None:
        config = self._config
        with smtplib.SMTP(config.host, config.port, timeout=config.timeout_s) as smtp:
            if config.starttls:
                smtp.starttls()
            if config.username:
                smtp.login(config.username, config.password)
            smtp.send_message(message)

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)


def password_reset_message(*, sender: str, to: str, link: str, valid_minutes: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Reset your Chirp password"
    message.set_content(
        "Someone asked to reset the password of the Chirp account with this email address.\n\n"
        f"To choose a new password, open this link within {valid_minutes} minutes:\n\n{link}\n\n"
        "The link works once. If you did not ask for this, ignore this mail: your password stays as it is.\n"
    )
    return message
