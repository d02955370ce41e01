"""What a problem is: the finite model (:class:`FiniteMFG`), transition kernels, continuous games."""
