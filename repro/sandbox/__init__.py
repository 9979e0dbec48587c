"""The sandbox boundary: the only package that talks to a container engine."""
