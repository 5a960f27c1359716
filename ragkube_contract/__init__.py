"""The contract between the operator and the API image, written down once.

The operator renders pods of the API image; the API image reads its settings from the
environment. Neither imports the other: both import this module, and tests on each side
check that they honour it.
"""
