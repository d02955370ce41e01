"""Closed-form equilibria of model classes (pure functions of a model's parameters)."""
