"""Kizuna (絆): the open-source, self-hosted customer success platform."""

__version__ = "0.1.0"
