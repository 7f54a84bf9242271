"""Signals the monitors compute: system, labelled performance, estimated performance, drift."""
