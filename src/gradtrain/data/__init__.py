"""Data: datasets, the DataLoader, the registered sources (files, bundled and synthetic sets)."""

from . import image_folder, npz_file, sources, synthetic
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
    "image_folder",
    "npz_file",
    "random_split",
    "sources",
    "split_indices",
    "split_rows",
    "synthetic",
]
