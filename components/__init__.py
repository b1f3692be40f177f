"""Rampart's component library: hardened AWS building blocks for one web service.

Each component is a Pulumi ComponentResource in its own module with typed args and secure
defaults; they know nothing of stacks or stack files.
"""
