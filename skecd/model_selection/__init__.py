"""Cross-validation splitters for materials: leave one element out."""

from ._split import LeaveOneElementOut, element_split_summary

__all__ = ["LeaveOneElementOut", "element_split_summary"]
