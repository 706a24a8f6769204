"""Fake Twilio and Telegram servers on 127.0.0.1 for the real clients to talk to."""
