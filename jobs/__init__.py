"""mrjob jobs. Importing them needs mrjob (``pip install 'invindex[mrjob]'``)."""
