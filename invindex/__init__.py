"""invindex: build inverted indexes with one Hadoop-streaming job, locally or at scale."""

__version__ = "0.1.0"
