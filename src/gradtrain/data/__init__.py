"""Data: datasets, the DataLoader, and the registered sources (CSV, bundled and synthetic sets)."""

from . import sources, synthetic
from .dataset import Dataset, Subset, TensorDataset, random_split
from .loader import DataLoader, collate
from .table import DataError, Standardizer, Table, split_indices, split_rows

__all__ = [
    "DataError",
    "DataLoader",
    "Dataset",
    "Standardizer",
    "Subset",
    "Table",
    "TensorDataset",
    "collate",
    "random_split",
    "sources",
    "split_indices",
    "split_rows",
    "synthetic",
]
