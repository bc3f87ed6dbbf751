"""Leased nodes: a tier whose kernels run on nodes leased from a provider (issue 15)."""
