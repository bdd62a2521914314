"""Cross-validation splitters for materials: leave one element out."""

__all__ = []
