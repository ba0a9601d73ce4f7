"""Open Badges documents (OB 2.0, OB 3.0), proofs, keys, status lists, images and baking: pure code."""
