"""The pure core: records -> analysis -> postings -> index format.

Everything in this package runs on cluster nodes: standard library only, Python 3.9+.
"""
