"""Model-free, sample-based learners: they see the game only through a simulator."""
