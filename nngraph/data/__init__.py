"""Data for training and evaluation (``load_data(spec) -> Dataset``) and the explicit downloader."""
from .datasets import Dataset, load_data
from .download import default_data_dir, download
from .idx import read_idx, write_idx

__all__ = ["Dataset", "load_data", "download", "default_data_dir", "read_idx", "write_idx"]
