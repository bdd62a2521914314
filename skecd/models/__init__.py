"""Neural-network regressors (skorch) and their plain torch modules."""

__all__ = []
