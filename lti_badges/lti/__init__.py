"""LTI 1.3 adapters: pylti1p3 glue with the tool configuration in the database, keys,
launch validation with single-use nonces, dynamic registration, deep linking."""
