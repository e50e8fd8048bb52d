"""Domain operations: keyword-only functions named ``<entity>_<action>``.

Every mutation writes its audit ``Event`` in the same transaction.
"""
