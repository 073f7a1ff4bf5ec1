"""The operations, one small class each, grouped by family."""
