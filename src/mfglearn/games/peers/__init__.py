"""Ports of the peer libraries' games at parity (OpenSpiel 2.0.2, MFGLib 0.3.0); quirks in each docstring."""
