"""Real remote tiers: kernels on other hosts (SSH), their availability, their prices."""
